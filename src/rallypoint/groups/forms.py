from django import forms

from rallypoint.core.widgets import email_input, name_input
from rallypoint.people.forms import EmailTypoMixin

from .models import Group, JoinPolicy

KM_PER_MILE = 1.609344


class GroupForm(forms.Form):
    name = forms.CharField(
        max_length=200, label="Group name", help_text="e.g. “Eastside Neighbors for Change”"
    )
    description = forms.CharField(
        widget=forms.Textarea, required=False, help_text="Who you are and what you do together."
    )
    postal_code = forms.CharField(
        max_length=20, required=False, label="Postal code at the centre of your area"
    )
    radius_miles = forms.IntegerField(
        min_value=1, max_value=300, initial=10, required=False, label="Area radius (miles)"
    )
    region = forms.CharField(
        max_length=100,
        required=False,
        label="Or a named region",
        help_text="e.g. “Western Slope”. Used when there's no postal code.",
    )
    join_policy = forms.ChoiceField(
        choices=JoinPolicy.choices,
        initial=JoinPolicy.OPEN,
        widget=forms.RadioSelect,
        label="Who can join",
    )

    def service_fields(self) -> dict:
        c = self.cleaned_data
        miles = c.get("radius_miles")
        return {
            "name": c["name"],
            "description": c.get("description", ""),
            "postal_code": c.get("postal_code", ""),
            "region": c.get("region", ""),
            "radius_km": round(miles * KM_PER_MILE) if miles else None,
            "join_policy": c["join_policy"],
        }

    @classmethod
    def initial_for(cls, group: Group) -> dict:
        return {
            "name": group.name,
            "description": group.description,
            "postal_code": group.postal_code,
            "radius_miles": round(group.radius_km / KM_PER_MILE),
            "region": group.region,
            "join_policy": group.join_policy,
        }

    def add_service_errors(self, exc) -> None:
        for name, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
            field = {"radius_km": "radius_miles"}.get(name, name)
            self.add_error(field if field in self.fields else None, errors)


class GroupSearchForm(forms.Form):
    postal_code = forms.CharField(max_length=20, required=False)
    radius = forms.TypedChoiceField(
        choices=[(10, "10 miles"), (25, "25 miles"), (50, "50 miles"), (100, "100 miles")],
        coerce=int,
        required=False,
        initial=25,
        label="Within",
    )


class JoinForm(EmailTypoMixin, forms.Form):
    given_name = forms.CharField(
        max_length=100, label="First name", widget=name_input("given-name")
    )
    family_name = forms.CharField(
        max_length=100, required=False, label="Last name", widget=name_input("family-name")
    )
    email = forms.CharField(max_length=254, widget=email_input())
    website = forms.CharField(required=False)


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea, max_length=10_000, label="Announcement")


class MergeForm(forms.Form):
    """Pick the group to keep (GET shows the preview), then confirm (POST merges)."""

    target = forms.ModelChoiceField(
        queryset=Group.objects.all(),
        to_field_name="slug",
        label="Merge into",
        error_messages={"invalid_choice": "Choose an existing group to merge into."},
    )
    confirm = forms.BooleanField(required=False)
    confirm_differences = forms.BooleanField(
        required=False, label="Merge them even though they differ"
    )
