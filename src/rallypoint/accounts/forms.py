from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.urls import reverse

from rallypoint.core.mail import email_queue
from rallypoint.core.ratelimit import client_ip, hit
from rallypoint.people.forms import NoColonMixin
from rallypoint.people.normalize import clean_email

from .models import Role

NAME_MAX = 100


class LoginForm(NoColonMixin, AuthenticationForm):
    username = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password don't match an account. Check them, or reset "
        "your password.",
    }

    def clean(self):
        if self.request is not None:
            limit, window = getattr(settings, "LOGIN_RATE_LIMIT", (20, 300))
            allowed, retry_after = hit(
                f"login:{client_ip(self.request)}", limit=limit, window=window
            )
            if not allowed:
                minutes = max(1, round(retry_after / 60))
                raise ValidationError(
                    f"Too many login attempts. Please wait {minutes} minute"
                    f"{'s' if minutes != 1 else ''} and try again.",
                    code="rate_limited",
                )
        username = self.cleaned_data.get("username")
        if username:
            self.cleaned_data["username"] = username.strip()
        return super().clean()


class SignupForm(NoColonMixin, forms.Form):
    given_name = forms.CharField(
        label="First name",
        max_length=NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password.",
    )

    def clean_email(self) -> str:
        return clean_email(self.cleaned_data["email"])

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("email"):
            from .models import User

            try:
                password_validation.validate_password(
                    data["password"], user=User(email=data["email"])
                )
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleForm(NoColonMixin, forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class QueuedPasswordResetForm(NoColonMixin, PasswordResetForm):
    """Django's reset form, with the message sent through the outbound queue after commit."""

    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return clean_email(self.cleaned_data["email"])

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        email_queue(
            to=to_email,
            template="accounts/email/password_reset",
            context={
                "reset_url": f"{context['protocol']}://{context['domain']}"
                + reverse(
                    "accounts:password_reset_confirm",
                    kwargs={"uidb64": context["uid"], "token": context["token"]},
                ),
                "user": context["user"],
            },
        )


class StyledSetPasswordForm(NoColonMixin, SetPasswordForm):
    pass


class StyledPasswordChangeForm(NoColonMixin, PasswordChangeForm):
    pass
