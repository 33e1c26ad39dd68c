from django import forms
from django.core.exceptions import ValidationError

from rallypoint.segments.models import Segment

from .dedupe import KINDS
from .mapping import FIELD_CHOICES, mapping_problems
from .models import ImportJob

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # 1 GB: about ten million rows


class NoColonMixin:
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class UploadForm(NoColonMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Exported from a spreadsheet, another CRM or a sign-up sheet. The first line"
        " must name the columns. Comma, semicolon or tab separated; UTF-8 or Latin-1.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
        error_messages={
            "required": "Choose a CSV file to upload.",
            "empty": "That file is empty.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("That file is over 1 GB: split it into smaller files.")
        return upload


class MappingForm(NoColonMixin, forms.Form):
    """One "what is in this column" choice per column, then the options for everyone."""

    tags = forms.CharField(
        label="Tag everyone in this file",
        required=False,
        max_length=1000,
        help_text="Separate tags with commas, e.g. spring-canvass, volunteers.",
    )
    source = forms.CharField(
        label="Source",
        required=False,
        max_length=200,
        help_text="Where these people came from (kept on new records), e.g. 'Fair sign-up sheet'.",
    )
    fill_blanks_only = forms.BooleanField(
        label="Only fill in blanks for people we already know",
        required=False,
        help_text="Leave unticked to update names and addresses with the file's values. A blank"
        " cell never erases anything, and no one who unsubscribed is subscribed again.",
    )

    update_by_phone = forms.BooleanField(
        label="Update people found by phone number when the email address is new",
        required=False,
        help_text="Left unticked, a row with an email address we don't know and a phone number"
        " someone already has adds a new person, listed as a possible duplicate for you to"
        " check. Tick it only if this file is known to be right: such rows then update (and"
        " add the email address to) the person with that phone number.",
    )

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        self.columns = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=FIELD_CHOICES,
                required=False,
                initial=job.mapping.get(str(index), ""),
            )
            samples = [row[index] for row in job.sample_rows if index < len(row) and row[index]]
            self.columns.append((self[name], samples[:3]))
        if not self.is_bound:
            self.initial.setdefault("tags", ", ".join(job.tags))
            self.initial.setdefault("source", job.source or job.original_name)
            self.initial.setdefault("fill_blanks_only", job.fill_blanks_only)
            self.initial.setdefault("update_by_phone", job.update_by_phone)

    def clean(self):
        cleaned = super().clean()
        mapping = self.mapping()
        for problem in mapping_problems(mapping, self.job.headers):
            self.add_error(None, problem)
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {
            str(index): self.cleaned_data.get(f"col_{index}") or ""
            for index in range(len(self.job.headers))
            if self.cleaned_data.get(f"col_{index}")
        }

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]


class ExportForm(NoColonMixin, forms.Form):
    segment = forms.ModelChoiceField(
        label="Who",
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label="Everyone",
        to_field_name="slug",
    )


class DuplicateKindForm(forms.Form):
    kind = forms.ChoiceField(choices=list(KINDS.items()), required=False)
