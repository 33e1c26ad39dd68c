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


class RichTextarea(forms.Textarea):
    """A textarea that becomes a rich-text editor (the vendored Quill, static/rallypoint/vendor)
    with JavaScript, and stays a plain textarea without it. The editor writes HTML into the
    textarea; the service that stores it sanitises it (nh3). Templates render `{{ form.media }}`."""

    def __init__(self, attrs=None):
        super().__init__({"rows": 10, "data-rich-editor": "1", **(attrs or {})})

    class Media:
        css = {"all": ["rallypoint/vendor/quill-2.0.3/quill.snow.css"]}
        js = ["rallypoint/vendor/quill-2.0.3/quill.js", "rallypoint/rich-editor.js"]
