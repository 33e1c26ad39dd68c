from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.imports.models import ImportChange, ImportJob, ImportRowError, ImportStatus
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


def test_import_run_matches_by_email_and_opted_in_phone_owner(tmp_path):
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
        update_by_phone=True,
    )
    job = import_job_run(job_id=job.pk)
    assert (job.created_count, job.updated_count, job.duplicate_count) == (1, 2, 0)
    ana.refresh_from_db()
    assert ana.family_name == "Diaz"
    assert sorted(ben.email_addresses.values_list("address", flat=True)) == ["ben.new@example.org"]
    assert Person.objects.count() == 3


VICTIM_FILE = (
    "email,first name,last name,phone,tags\n"
    "attacker@example.org,Mallory,Evil,(303) 555-0102,hijacked\n"  # 2 new email, Ben's phone
    "ana@example.org,,Diaz,,\n"  # 3 known email
    "ana@example.org,,,(303) 555-0102,\n"  # 4 known email, Ben's (and now Mallory's) phone
)


def test_import_run_new_email_with_known_phone_leaves_the_phone_owner_alone(tmp_path):
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    job = import_job_run(job_id=started_job(tmp_path, VICTIM_FILE).pk)
    ben.refresh_from_db()
    assert (ben.given_name, ben.family_name) == ("Ben", "Berg")
    assert list(ben.email_addresses.all()) == []
    assert list(ben.taggings.all()) == []
    mallory = EmailAddress.objects.get(address="attacker@example.org").person
    assert (mallory.given_name, mallory.family_name) == ("Mallory", "Evil")
    assert list(mallory.phone_numbers.values_list("number", flat=True)) == ["+13035550102"]
    counts = (job.created_count, job.updated_count, job.unchanged_count, job.duplicate_count)
    assert counts == (2, 1, 0, 2)


def test_import_run_lists_created_updated_and_possible_duplicate_rows(tmp_path):
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org")
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    job = import_job_run(job_id=started_job(tmp_path, VICTIM_FILE).pk)
    mallory = EmailAddress.objects.get(address="attacker@example.org").person
    assert list(
        ImportChange.objects.filter(job=job).values_list(
            "line", "outcome", "person_id", "duplicate_of_id"
        )
    ) == [
        (2, "created", mallory.pk, ben.pk),
        (3, "updated", ana.pk, None),
        (4, "updated", ana.pk, mallory.pk),  # Mallory was the number's newest owner
    ]


def test_import_run_writes_each_update_to_the_persons_history(tmp_path, organizer):
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org")
    bob = PersonFactory(given_name="Bob", family_name="Stone")
    EmailAddressFactory(person=bob, address="bob@example.org")
    job = started_job(
        tmp_path,
        "email,first name,last name,phone,tags\n"
        "ana@example.org,Anna,Diaz,(303) 555-0109,donor\n"
        "bob@example.org,Bob,Stone,,\n"  # nothing new: no history entry
        "new@example.org,New,Person,,\n",  # created: no history entry
        actor=organizer,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_by=organizer)
    job = import_job_run(job_id=job.pk)
    entries = AuditEntry.objects.filter(action="person.updated")
    assert [(e.object_id, e.actor_id) for e in entries] == [(str(ana.pk), organizer.pk)]
    assert entries[0].data == {
        "source": f"import #{job.pk}",
        "lines": [2],
        "before": {
            "given_name": "Ana",
            "family_name": "",
            "phone_added": "",
            "tags_added": "",
        },
        "after": {
            "given_name": "Anna",
            "family_name": "Diaz",
            "phone_added": "+13035550109",
            "tags_added": "donor",
        },
    }


def test_import_run_history_is_written_in_one_query_per_batch(
    tmp_path, django_assert_max_num_queries
):
    def file_changing(count):
        people = [PersonFactory(given_name="") for _ in range(count)]
        for i, person in enumerate(people):
            EmailAddressFactory(person=person, address=f"k{count}-{i}@example.org")
        rows = "".join(f"k{count}-{i}@example.org,Name{i}\n" for i in range(count))
        return started_job(tmp_path, "email,first name\n" + rows)

    queries = []
    for count in (2, 40):
        job = file_changing(count)
        with django_assert_max_num_queries(40) as captured:
            import_job_run(job_id=job.pk)
        queries.append(len(captured.captured_queries))
    assert queries[0] == queries[1]
    assert AuditEntry.objects.filter(action="person.updated").count() == 42


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
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert Person.objects.count() == 2
    assert not AuditEntry.objects.filter(action="person.updated").exists()


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


def test_import_run_reports_nul_bytes_past_the_sniffed_sample_and_stores_none(tmp_path):
    padding = "".join(
        f"p{i}@example.org,Person {i:05d} with a long enough name\n" for i in range(2000)
    )
    assert len(padding) > 64 * 1024  # past what detect_format reads
    job = started_job(tmp_path, "email,first name\n" + padding + "nul@example.org,Mal\x00lory\n")
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count, job.skipped_count) == ("done", 2000, 1)
    error = ImportRowError.objects.get(job=job)
    assert (error.line, error.reason, error.values) == (
        2002,
        "Column “first name” contains a NUL character (shown as � in this copy).",
        ["nul@example.org", "Mal\ufffdlory"],
    )
    assert not EmailAddress.objects.filter(address="nul@example.org").exists()
    assert [n for n in Person.objects.values_list("given_name", flat=True) if "\x00" in n] == []


def test_import_run_reports_undecodable_bytes_instead_of_storing_a_guess(tmp_path):
    padding = "".join(
        f"p{i}@example.org,Person {i:05d} with a long enough name\n" for i in range(2000)
    )
    path = tmp_path / "people.csv"
    # The first 64 KB are UTF-8; then a byte that is not, and a surrogate written as UTF-8.
    path.write_bytes(
        f"email,first name\n{padding}".encode()
        + b"ben@example.org,B\xffn\ncy@example.org,\xed\xa0\x80\ndee@example.org,Dee\n"
    )
    job = import_job_create(file=path)
    assert job.encoding == "utf-8"
    job = import_job_run(job_id=import_job_start(job=job, mapping=job.mapping, enqueue=False).pk)
    assert (job.created_count, job.skipped_count) == (2001, 2)
    reason = (
        "Column “first name” contains bytes that aren't valid utf-8 text (shown as � in this copy)."
    )
    assert list(ImportRowError.objects.values_list("line", "reason", "values")) == [
        (2002, reason, ["ben@example.org", "B\ufffdn"]),
        (2003, reason, ["cy@example.org", "\ufffd\ufffd\ufffd"]),
    ]
    assert not EmailAddress.objects.filter(
        address__in=["ben@example.org", "cy@example.org"]
    ).exists()


def test_import_job_create_keeps_no_nul_from_the_uploaded_file_name(tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.csv", b"email\na@example.org\n")
    job = import_job_create(file=upload, name="li\x00st\ud800.csv")
    job.refresh_from_db()
    assert job.original_name == "list.csv"


def test_import_changes_follow_a_merge_of_the_possible_duplicates(tmp_path, organizer):
    from rallypoint.people.services import person_merge

    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    job = import_job_run(job_id=started_job(tmp_path, VICTIM_FILE).pk)
    mallory = EmailAddress.objects.get(address="attacker@example.org").person
    person_merge(keep=ben, other=mallory, actor=organizer)
    assert list(
        ImportChange.objects.filter(job=job, line=2).values_list("person_id", "duplicate_of_id")
    ) == [(ben.pk, ben.pk)]


def test_import_run_big_batch_keeps_odd_text_and_repeats_and_skips_nul(tmp_path):
    # Past STAGE_MIN_ROWS rows a batch writes its new people set-based (people.bulk →
    # batch_stage): what the file says arrives exactly, repeats inside the batch are matched.
    odd = ["Tab\there", "Back\\slash", "\\N", '"Quoted"', "Emoji 🎉✊🏽", "e\u0301", "עברית"]
    lines = ["Email,First name,Last name,Zip,Phone"]
    for i in range(150):
        name = odd[i % len(odd)].replace('"', '""')
        lines.append(f'p{i}@example.org,"{name}",Last {i},80202,')
    lines[40] = "nul@example.org,Mal\x00lory,X,80202,"  # line 41
    lines[60] = "P7@EXAMPLE.ORG,,Again,,"  # line 61: the address of line 9, another case
    lines[80] = "shared@example.org,Sam,Shared,,303-555-0199"  # line 81
    lines[90] = "other@example.org,Otto,Other,,(303) 555-0199"  # line 91: line 81's number
    job = started_job(tmp_path, "\n".join(lines) + "\n")
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count, job.updated_count, job.skipped_count) == (
        "done",
        148,
        1,
        1,
    )
    assert ImportRowError.objects.get(job=job).line == 41
    names = dict(Person.objects.values_list("email_addresses__address", "given_name"))
    assert [names[f"p{i}@example.org"] for i in range(7)] == odd
    again = Person.objects.get(email_addresses__address="p7@example.org")
    assert (again.given_name, again.family_name, again.email_addresses.count()) == (
        odd[0],
        "Again",
        1,
    )
    other = ImportChange.objects.get(job=job, line=91)
    assert (
        other.duplicate_of_id
        == Person.objects.get(email_addresses__address="shared@example.org").pk
    )
    assert list(
        ImportChange.objects.filter(job=job, line=61).values_list("outcome", "person_id")
    ) == [("updated", again.pk)]
