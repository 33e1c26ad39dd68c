from django import forms


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class PasswordSetForm(forms.Form):
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password.",
    )


class VisibilityForm(forms.Form):
    public_display = forms.BooleanField(
        required=False,
        label="Show my first name and city on leaderboards and the live activity feed",
    )
