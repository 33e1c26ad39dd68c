import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from rallypoint.core.downloads import safe_cell
from rallypoint.core.models import AuditEntry
from rallypoint.imports.export import EXPORT_HEADER, export_rows
from rallypoint.imports.services import import_job_run
from rallypoint.people.models import EmailStatus, Person, PhoneNumber
from rallypoint.segments.services import segment_create
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
    TagFactory,
    TaggingFactory,
)
from tests.imports.factories import started_job

pytestmark = pytest.mark.django_db


def people():
    ana = PersonFactory(given_name="Ana", family_name="Diaz", source="join page")
    EmailAddressFactory(person=ana, address="Ana@Example.org")
    PhoneNumberFactory(person=ana, number="+13035550101", sms_consent=True)
    PostalAddressFactory(person=ana, address_lines=["1 Main St", "Apt 2"])
    TaggingFactory(person=ana, tag=TagFactory(name="volunteer"))
    ben = PersonFactory(given_name="=Ben", family_name="Berg")
    EmailAddressFactory(person=ben, address="ben@example.org", status=EmailStatus.UNSUBSCRIBED)
    cy = PersonFactory(given_name="Cy", family_name="")
    PhoneNumberFactory(person=cy, number="+13035550102")
    return ana, ben, cy


def test_export_rows_one_row_per_person_with_primary_contacts():
    ana, ben, cy = people()
    rows = list(export_rows())
    assert rows[0] == EXPORT_HEADER
    assert [r[:14] for r in rows[1:]] == [
        ["Ana@Example.org", "+13035550101", "Ana", "Diaz", "1 Main St", "Apt 2", "Denver"]
        + ["CO", "80202", "US", "volunteer", "subscribed", "yes", "join page"],
        ["ben@example.org", "", "'=Ben", "Berg", "", "", "", "", "", "", "", "unsubscribed"]
        + ["", ""],
        ["", "+13035550102", "Cy", "", "", "", "", "", "", "", "", "", "no", ""],
    ]
    assert [r[15] for r in rows[1:]] == [str(ana.uuid), str(ben.uuid), str(cy.uuid)]


def test_safe_cell_keeps_phone_numbers_and_defuses_formulas():
    assert [safe_cell(v) for v in ["+13035550101", "=SUM(A1)", "@cmd", "-2+3", "Ana"]] == [
        "+13035550101",
        "'=SUM(A1)",
        "'@cmd",
        "'-2+3",
        "Ana",
    ]


def test_export_then_import_creates_no_new_people(tmp_path):
    people()
    text = "".join(",".join(f'"{cell}"' for cell in row) + "\n" for row in export_rows()).replace(
        "'=Ben", "=Ben"
    )
    job = import_job_run(job_id=started_job(tmp_path, text).pk)
    # Ana's address takes her ZIP code's coordinates (the merge of a known address with a
    # file's ZIP), which the import reports as an update; Ben and Cy are left as they were.
    counts = (job.created_count, job.updated_count, job.unchanged_count, job.skipped_count)
    assert counts == (0, 1, 2, 0)
    assert Person.objects.count() == 3
    assert PhoneNumber.objects.count() == 2
    ben = Person.objects.get(family_name="Berg")
    assert (ben.given_name, ben.email_addresses.get().status) == ("=Ben", "unsubscribed")


def test_export_view_streams_a_segment_and_audits_it(organizer_client, organizer):
    ana, ben, cy = people()
    segment = segment_create(
        name="Texters",
        definition={"conditions": [{"type": "phone", "has_phone": True}]},
        actor=organizer,
    )
    response = organizer_client.get(reverse("imports:export"), {"segment": segment.slug})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="people-texters-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["+13035550101", "+13035550102"]
    entry = AuditEntry.objects.get(action="people.exported")
    assert entry.data == {"segment": "texters"}


def test_export_view_unknown_segment_says_so(organizer_client):
    response = organizer_client.get(reverse("imports:export"), {"segment": "gone"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "That segment doesn't exist any more: choose another one."
    ]
    assert AuditEntry.objects.count() == 0


def test_export_view_forbidden_for_supporter(supporter_client):
    people()
    assert supporter_client.get(reverse("imports:export")).status_code == 403
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("count", [1, 3])
def test_export_rows_query_count_does_not_grow(django_assert_num_queries, count):
    for i in range(count):
        EmailAddressFactory(address=f"p{i}@example.org")
    with django_assert_num_queries(5):  # people + emails, phones, addresses, taggings
        rows = list(export_rows())
    assert len(rows) == count + 1


def test_people_command_export_and_import_round_trip(tmp_path, capsys):
    people()
    out = tmp_path / "all.csv"
    call_command("people", "export", "-o", str(out))
    call_command("people", "import", str(out), "--tag", "roundtrip")
    assert Person.objects.count() == 3
    printed = capsys.readouterr().out
    assert "Created 0, updated 3, unchanged 0, possible duplicates 0, skipped 0 (of 3 rows)." in (
        printed
    )
    assert sorted(
        Person.objects.filter(taggings__tag__name="roundtrip").values_list("given_name", flat=True)
    ) == ["=Ben", "Ana", "Cy"]
