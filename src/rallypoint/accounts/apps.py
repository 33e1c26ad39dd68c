from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rallypoint.accounts"
    label = "accounts"
