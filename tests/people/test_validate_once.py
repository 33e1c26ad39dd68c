"""Email and phone are checked once per request, at the edge: the form (or the service that
receives raw input) validates, and every later step trusts the validated PersonData."""

from unittest import mock

import phonenumbers
import pytest
from django.urls import reverse

import rallypoint.people.normalize as normalize
from rallypoint.people.services import PersonData
from tests.actions.factories import ActionFactory
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db


def _checks(client, url, data):
    with (
        mock.patch.object(normalize, "validate_email", wraps=normalize.validate_email) as email,
        mock.patch.object(normalize.phonenumbers, "parse", wraps=phonenumbers.parse) as phone,
    ):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return email.call_count, phone.call_count


def test_a_signature_checks_email_and_phone_once(client):
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    form = {"given_name": "Ana", "family_name": "Ruiz", "email": "ana@example.org"}
    form |= {"phone": "+1 303 555 0100", "postal_code": "80202"}
    assert _checks(client, url, form) == (1, 1)


def test_an_rsvp_checks_email_and_phone_once(client):
    event = EventFactory()
    form = {"given_name": "Bo", "email": "bo@example.org", "phone": "+1 303 555 0101"}
    assert _checks(client, f"{event.get_absolute_url()}rsvp/", form) == (1, 1)


def test_a_validated_copy_is_not_checked_again():
    data = PersonData(email=" Ana@Example.org ", phone="(303) 555-0100").validated()
    assert (data.email, data.phone, data.checked) == ("Ana@Example.org", "+13035550100", True)
    with mock.patch.object(normalize, "validate_email") as email:
        assert data.validated() is data
    email.assert_not_called()


def test_a_signature_with_a_bad_phone_shows_the_error_on_the_phone_field(client):
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    form = {"given_name": "Ana", "family_name": "Ruiz", "email": "ana@example.org"}
    response = client.post(url, form | {"phone": "12", "postal_code": "80202"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
