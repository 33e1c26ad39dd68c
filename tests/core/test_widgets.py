"""Every public form gives phones the right keyboard and lets browsers fill in the visitor's own
details: email fields are type=email, phone fields type=tel, with autocomplete and inputmode."""

import pytest

from rallypoint.actions.forms import SubmissionForm
from rallypoint.events.forms import RsvpForm
from rallypoint.groups.forms import JoinForm as GroupJoinForm
from rallypoint.people.forms import JoinForm

EXPECTED = {
    "email": {"type": "email", "autocomplete": "email", "inputmode": "email"},
    "phone": {"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
    "given_name": {"autocomplete": "given-name"},
    "family_name": {"autocomplete": "family-name"},
    "postal_code": {"autocomplete": "postal-code"},
}


def _public_forms():
    yield "join", JoinForm()
    yield "rsvp", RsvpForm()
    yield "group join", GroupJoinForm()


@pytest.mark.parametrize(
    "name,form", list(_public_forms()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_form_inputs_have_the_right_type_and_autocomplete(name, form):
    checked = 0
    for field_name, wanted in EXPECTED.items():
        if field_name not in form.fields:
            continue
        widget = form.fields[field_name].widget
        attrs = {"type": widget.input_type, **widget.attrs}
        for key, value in wanted.items():
            assert attrs.get(key) == value, (name, field_name, key, attrs)
        checked += 1
    assert checked >= 2, name


@pytest.mark.django_db
def test_petition_form_inputs_have_the_right_type_and_autocomplete():
    from tests.actions.factories import ActionFactory

    form = SubmissionForm(action=ActionFactory())
    for field_name in ("email", "phone", "given_name", "family_name", "postal_code"):
        if field_name in form.fields:
            widget = form.fields[field_name].widget
            attrs = {"type": widget.input_type, **widget.attrs}
            for key, value in EXPECTED[field_name].items():
                assert attrs.get(key) == value, (field_name, key, attrs)
