"""Form helpers shared by every app's views."""

from django import forms
from django.core.exceptions import ValidationError


def errors_to_form(
    form: forms.Form, exc: ValidationError, *, rename: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: each field's messages on that field (or
    on the field `rename` names for it), the rest at the top of the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        target = (rename or {}).get(name, name)
        form.add_error(target if target in form.fields else None, errors)
