from django import forms

from .models import EventType
from .services import hook_url_clean


class HookForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="e.g. “Data warehouse” or “Slack alerts”.")
    url = forms.CharField(
        label="Receiving address",
        max_length=500,
        help_text="The full https:// address that receives the events.",
        widget=forms.URLInput,
    )
    event_types = forms.MultipleChoiceField(
        label="Send these events",
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_url(self):
        return hook_url_clean(self.cleaned_data["url"])
