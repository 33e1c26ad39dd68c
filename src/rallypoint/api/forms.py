from django import forms

from .models import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Who or what will use it, e.g. “Data warehouse sync” or “Volunteer app”.",
    )
    scope = forms.ChoiceField(
        choices=Scope.choices,
        initial=Scope.READ_ONLY,
        widget=forms.RadioSelect,
        help_text="Read only can list and read records. Read and write can also add and change "
        "people, tags, RSVPs and signatures.",
    )
