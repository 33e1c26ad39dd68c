"""The organizer's merge page: a side-by-side comparison first, the merge only on its button."""

import pytest

from rallypoint.core.models import AuditEntry
from rallypoint.people.models import Person
from tests.factories import EmailAddressFactory, UserFactory

pytestmark = pytest.mark.django_db


def pair():
    return EmailAddressFactory(address="ana@example.org").person, EmailAddressFactory(
        address="ana.r@example.org"
    ).person


def test_person_merge_confirm_get_compares_and_changes_nothing(organizer_client):
    keep, other = pair()
    response = organizer_client.get(f"/people/{keep.pk}/merge/{other.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "ana@example.org" in body
    assert "ana.r@example.org" in body
    assert f"#{other.pk} is then removed" in body
    assert Person.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2
    assert AuditEntry.objects.filter(action="person.merged").count() == 0


def test_person_merge_confirm_post_without_the_button_changes_nothing(organizer_client):
    keep, other = pair()
    response = organizer_client.post(f"/people/{keep.pk}/merge/{other.pk}/")
    assert response.status_code == 400
    assert response.context["error"] == (
        "Press “Merge” on this page to confirm. Nothing was changed."
    )
    assert Person.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2
    assert AuditEntry.objects.filter(action="person.merged").count() == 0


def test_person_merge_confirm_post_with_the_button_merges_and_is_audited(organizer_client):
    keep, other = pair()
    response = organizer_client.post(f"/people/{keep.pk}/merge/{other.pk}/", {"confirm": "merge"})
    assert response.status_code == 302
    assert response.url == f"/people/{keep.pk}/"
    assert list(Person.objects.filter(pk__in=[keep.pk, other.pk]).values_list("pk", flat=True)) == [
        keep.pk
    ]
    entry = AuditEntry.objects.get(action="person.merged")
    assert (entry.object_id, entry.data["merged"]["emails"]) == (
        str(keep.pk),
        ["ana.r@example.org"],
    )


def test_person_merge_confirm_by_supporter_is_forbidden_and_changes_nothing(client):
    keep, other = pair()
    client.force_login(UserFactory())
    response = client.post(f"/people/{keep.pk}/merge/{other.pk}/", {"confirm": "merge"})
    assert response.status_code == 403
    assert Person.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2
