import hashlib

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
from rallypoint.people.forms import EmailTypoMixin, NoColonMixin
from rallypoint.people.normalize import clean_email, email_key

from .models import Role

NAME_MAX = 100


def _digest(text: str) -> str:
    # Cache keys stay short and free of spaces or control characters whatever was typed.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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
        username = self.cleaned_data.get("username")
        if username:
            self.cleaned_data["username"] = username.strip()
        if self.request is not None:
            self._rate_check(f"login:{client_ip(self.request)}", "LOGIN_RATE_LIMIT", (20, 300))
            if username:
                # Per typed address, whether or not an account has it (so the throttle tells
                # nobody which addresses have accounts), from however many network addresses.
                account = _digest(email_key(username))
                self._rate_check(f"login:account:{account}", "LOGIN_ACCOUNT_RATE_LIMIT", (10, 900))
        return super().clean()

    def _rate_check(self, key: str, setting: str, default: tuple[int, int]) -> None:
        limit, window = getattr(settings, setting, default)
        allowed, retry_after = hit(key, limit=limit, window=window)
        if not allowed:
            minutes = max(1, round(retry_after / 60))
            raise ValidationError(
                f"Too many login attempts. Please wait {minutes} minute"
                f"{'s' if minutes != 1 else ''} and try again, or reset your password.",
                code="rate_limited",
            )

    @property
    def rate_limited(self) -> bool:
        return any(e.code == "rate_limited" for e in self.errors.as_data().get("__all__", []))


class SignupForm(NoColonMixin, EmailTypoMixin, forms.Form):
    """Step one of a sign-up: who you are. The password is chosen on the page the emailed link
    opens, by whoever controls the address."""

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

    def clean_email(self) -> str:
        return clean_email(self.cleaned_data["email"])


class SignupPasswordForm(NoColonMixin, forms.Form):
    """Step two, on the page the emailed link opens: choose a password."""

    password = forms.CharField(
        label="Choose a password",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password.",
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        from .models import User

        password = self.cleaned_data["password"]
        password_validation.validate_password(password, user=User(email=self.email))
        return password


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
            requested=True,
        )


class StyledSetPasswordForm(NoColonMixin, SetPasswordForm):
    pass


class StyledPasswordChangeForm(NoColonMixin, PasswordChangeForm):
    pass
