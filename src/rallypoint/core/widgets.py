"""Inputs that give phones the right keyboard and let browsers fill them in: every form field
for an email, a phone, a name or a postal code uses one of these (tests/core/test_widgets.py
checks the public forms)."""

from django import forms


def email_input(**attrs) -> forms.EmailInput:
    return forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email", **attrs})


def phone_input(**attrs) -> forms.TextInput:
    return forms.TextInput(
        attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", **attrs}
    )


def name_input(part: str, **attrs) -> forms.TextInput:
    """`part`: "given-name", "family-name" or "name"."""
    return forms.TextInput(attrs={"autocomplete": part, **attrs})


def postal_code_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "postal-code", **attrs})
