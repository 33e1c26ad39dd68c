from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.hook_list, name="list"),
    path("new/", views.hook_create, name="create"),
    path("<int:pk>/", views.hook_detail, name="detail"),
    path("<int:pk>/toggle/", views.hook_toggle, name="toggle"),
    path("<int:pk>/secret/", views.hook_rotate_secret, name="rotate_secret"),
    path("<int:pk>/test/", views.hook_test, name="test"),
    path("<int:pk>/delete/", views.hook_delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/", views.delivery_detail, name="delivery"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/resend/",
        views.delivery_resend,
        name="delivery_resend",
    ),
]
