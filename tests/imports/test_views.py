import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rallypoint.imports.models import ImportJob, ImportStatus
from rallypoint.imports.services import import_job_run
from rallypoint.people.models import Person
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
