from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.imports.models import ImportJob, ImportRowError, ImportStatus
from rallypoint.imports.services import (
    import_job_cancel,
    import_job_create,
    import_job_resume,
    import_job_run,
    import_job_start,
)
from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, Tagging
from tests.factories import EmailAddressFactory, PersonFactory, PhoneNumberFactory
from tests.imports.factories import crash_after, started_job, write_csv

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "Email,First name,Last name,Zip,Phone,Notes\n"
    "ana@example.org,Ana,Diaz,80202,303-555-0101,a\n"  # 2
    ",Nobody,,80202,,b\n"  # 3 no email, no phone
    "not-an-email,Bad,Email,,,c\n"  # 4
    "ben@example.org,Ben,Berg,10001,555-01,d\n"  # 5 impossible phone
    "cy@example.org,Cy,Cole\n"  # 6 wrong column count
    f"dee@example.org,{'D' * 101},Dunn,,,e\n"  # 7 over-long first name
    "eve@example.org,Eve,Eng,94110,,f\n"  # 8
)


def test_import_job_create_stores_file_and_guesses_columns(tmp_path, settings, organizer):
    job = import_job_create(file=write_csv(tmp_path, GOOD_AND_BAD), actor=organizer)
    assert Path(job.file.path).parent == Path(settings.MEDIA_ROOT) / "imports"
    assert job.headers == ["Email", "First name", "Last name", "Zip", "Phone", "Notes"]
    assert job.mapping == {
        "0": "email",
        "1": "given_name",
        "2": "family_name",
        "3": "postal_code",
        "4": "phone",
    }
    assert (job.status, job.total_rows, job.original_name) == ("draft", 7, "people.csv")
    assert AuditEntry.objects.get().action == "import.uploaded"


def test_import_job_create_refuses_unreadable_file_and_keeps_nothing(tmp_path, settings):
    with pytest.raises(ValidationError) as info:
        import_job_create(file=write_csv(tmp_path, "", name="empty.csv"))
    assert info.value.messages == ["The file is empty."]
    assert ImportJob.objects.count() == 0
    assert list((Path(settings.MEDIA_ROOT) / "imports").iterdir()) == []


def test_import_job_start_refuses_mapping_without_email_or_phone(tmp_path):
    job = import_job_create(file=write_csv(tmp_path, GOOD_AND_BAD))
    with pytest.raises(ValidationError) as info:
        import_job_start(job=job, mapping={"1": "given_name"}, enqueue=False)
    assert info.value.messages == [
        "Choose the column with email addresses or the one with phone numbers."
    ]
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_import_run_skips_each_bad_row_with_line_and_reason(tmp_path):
    job = started_job(tmp_path, GOOD_AND_BAD)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_done, job.total_rows) == ("done", 7, 7)
    assert (job.created_count, job.updated_count, job.skipped_count) == (2, 0, 5)
    errors = list(ImportRowError.objects.filter(job=job).values_list("line", "reason"))
    assert errors == [
        (3, "No email address and no phone number."),
        (4, "Email: That email address doesn't look right: An email address must have an @-sign."),
        (5, "Phone: That phone number isn't a real, dialable number."),
        (6, "Expected 6 columns, found 3 (a missing or extra separator or quote?)."),
        (7, "First name: Keep this under 100 characters."),
    ]
    assert ImportRowError.objects.get(line=5).values == [
        "ben@example.org",
        "Ben",
        "Berg",
        "10001",
        "555-01",
        "d",
    ]
    assert sorted(EmailAddress.objects.values_list("address", flat=True)) == [
        "ana@example.org",
        "eve@example.org",
    ]


def test_import_run_matches_existing_people_by_email_then_phone(tmp_path):
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="Ana@Example.org")
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    job = started_job(
        tmp_path,
        "email,first name,last name,phone\n"
        "ana@example.org,Ana,Diaz,\n"
        "ben.new@example.org,,,(303) 555-0102\n"
        "cy@example.org,Cy,,\n",
    )
    job = import_job_run(job_id=job.pk)
    assert (job.created_count, job.updated_count) == (1, 2)
    ana.refresh_from_db()
    assert ana.family_name == "Diaz"
    assert sorted(ben.email_addresses.values_list("address", flat=True)) == ["ben.new@example.org"]
    assert Person.objects.count() == 3


def test_import_run_collapses_duplicates_across_batches(tmp_path):
    job = started_job(
        tmp_path,
        "email,first name,phone\n"
        "ana@example.org,Ana,\n"
        "x@example.org,Xavier,\n"
        "ANA@example.org,,303-555-0101\n"
        ",Someone,3035550101\n",
    )
    job = import_job_run(job_id=job.pk, batch_size=2)
    assert (job.created_count, job.updated_count, job.skipped_count) == (2, 2, 0)
    ana = EmailAddress.objects.get(address_normalized="ana@example.org").person
    assert ana.given_name == "Someone"  # matched by phone; a later value updates the name
    assert list(PhoneNumber.objects.values_list("person_id", "number")) == [
        (ana.pk, "+13035550101")
    ]


def test_import_run_fill_blanks_only_keeps_known_values_and_unsubscribes_stick(tmp_path):
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org", status=EmailStatus.UNSUBSCRIBED)
    job = started_job(
        tmp_path,
        "email,first name,last name,email status\nana@example.org,Anna,Diaz,subscribed\n",
        fill_blanks_only=True,
    )
    import_job_run(job_id=job.pk)
    ana.refresh_from_db()
    assert (ana.given_name, ana.family_name) == ("Ana", "Diaz")
    assert ana.email_addresses.get().status == EmailStatus.UNSUBSCRIBED


def test_import_run_tags_everyone_and_sets_source(tmp_path):
    job = started_job(
        tmp_path,
        "email,tags\na@example.org,donor\nb@example.org,\n",
        tags=["Fair 2024"],
        source="fair sheet",
    )
    import_job_run(job_id=job.pk)
    assert sorted(Tagging.objects.values_list("person__source", "tag__name")) == [
        ("fair sheet", "Fair 2024"),
        ("fair sheet", "Fair 2024"),
        ("fair sheet", "donor"),
    ]


def test_import_run_twice_does_nothing_the_second_time(tmp_path):
    job = started_job(tmp_path, "email\na@example.org\nb@example.org\n")
    import_job_run(job_id=job.pk)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_done, job.created_count) == ("done", 2, 2)
    assert Person.objects.count() == 2


def test_import_run_leaves_a_job_another_worker_is_running(tmp_path):
    job = started_job(tmp_path, "email\na@example.org\n")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, run_token="other", heartbeat_at=timezone.now()
    )
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_done, job.run_token) == ("running", 0, "other")
    assert Person.objects.count() == 0


class Crash(Exception):
    pass


def test_import_resume_after_crash_creates_no_duplicates(tmp_path, organizer):
    rows = "".join(f"p{i}@example.org,Name{i}\n" for i in range(7))
    job = started_job(tmp_path, "email,first name\n" + rows, tags=["t"], actor=organizer)
    crash = crash_after(2, Crash("worker killed"))
    with pytest.raises(Crash):
        import_job_run(job_id=job.pk, batch_size=3, on_progress=crash)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created_count) == ("failed", 6, 6)
    assert job.error_message == "Crash: worker killed"
    assert Person.objects.count() == 6

    job = import_job_resume(job=job, actor=organizer, enqueue=False)
    job = import_job_run(job_id=job.pk, batch_size=3)
    assert (job.status, job.rows_done, job.created_count, job.updated_count) == ("done", 7, 7, 0)
    assert Person.objects.count() == 7
    assert Tagging.objects.count() == 7
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "import.uploaded",
        "import.started",
        "import.resumed",
        "import.finished",
    ]


def test_import_rerun_from_scratch_matches_everyone(tmp_path):
    text = "email,first name\na@example.org,Ana\nb@example.org,Ben\n"
    import_job_run(job_id=started_job(tmp_path, text).pk)
    again = import_job_run(job_id=started_job(tmp_path, text).pk)
    assert (again.created_count, again.updated_count) == (0, 2)
    assert Person.objects.count() == 2


def test_import_resume_takes_over_a_stalled_job(tmp_path):
    job = started_job(tmp_path, "email\na@example.org\n")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING,
        run_token="lost",
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count) == ("done", 1)


def test_import_resume_refuses_a_finished_job(tmp_path, organizer):
    job = import_job_run(job_id=started_job(tmp_path, "email\na@example.org\n").pk)
    with pytest.raises(ValidationError):
        import_job_resume(job=job, actor=organizer, enqueue=False)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE


def test_import_cancel_stops_before_the_next_batch(tmp_path, organizer):
    job = started_job(tmp_path, "email\na@example.org\nb@example.org\nc@example.org\n")

    def cancel(current):
        import_job_cancel(job=current, actor=organizer)

    import_job_run(job_id=job.pk, batch_size=1, on_progress=cancel)
    job.refresh_from_db()
    assert (job.status, job.rows_done) == ("cancelled", 1)
    assert Person.objects.count() == 1


def test_import_done_emails_the_organizer_once(
    tmp_path, organizer, django_capture_on_commit_callbacks
):
    job = started_job(tmp_path, "email\na@example.org\n", actor=organizer)
    ImportJob.objects.filter(pk=job.pk).update(created_by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_run(job_id=job.pk)
        import_job_run(job_id=job.pk)
    assert [m.subject for m in mail.outbox] == ["Import finished: people.csv"]
    assert mail.outbox[0].to == [organizer.email]
