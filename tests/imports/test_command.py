import pytest
from django.core.management import CommandError, call_command

from rallypoint.imports.models import ImportJob
from rallypoint.people.models import Person
from tests.factories import EmailAddressFactory, PersonFactory, PhoneNumberFactory
from tests.imports.factories import write_csv

pytestmark = pytest.mark.django_db


def test_people_import_command_maps_columns_and_writes_skipped_rows(tmp_path, capsys):
    path = write_csv(
        tmp_path,
        "Contact,Nickname,Cell\nana@example.org,Annie,303-555-0101\n,Nobody,\n",
    )
    call_command(
        "people",
        "import",
        str(path),
        "--map",
        "Contact=email",
        "--map",
        "Nickname=custom",
        "--source",
        "phone tree",
    )
    out = capsys.readouterr().out
    assert "Created 1, updated 0, unchanged 0, possible duplicates 0, skipped 1 (of 2 rows)." in out
    skipped = tmp_path / "people.skipped.csv"
    assert f"Skipped rows, with line numbers and reasons: {skipped}" in out
    assert skipped.read_text().splitlines() == [
        "line,reason,Contact,Nickname,Cell",
        "3,No email address and no phone number.,,Nobody,",
    ]
    ana = Person.objects.get()
    assert (ana.custom_fields, ana.source) == ({"Nickname": "Annie"}, "phone tree")


def test_people_import_command_refuses_unknown_column(tmp_path):
    path = write_csv(tmp_path, "email\na@example.org\n")
    with pytest.raises(CommandError, match="No column named 'Mail'"):
        call_command("people", "import", str(path), "--map", "Mail=email")
    assert Person.objects.count() == 0


def test_people_import_command_resume_of_unknown_job(tmp_path):
    with pytest.raises(CommandError, match="There is no import #99."):
        call_command("people", "import", "--resume", "99")


def test_people_import_command_resume_of_finished_job_says_why(tmp_path):
    path = write_csv(tmp_path, "email\na@example.org\n")
    call_command("people", "import", str(path))
    job = ImportJob.objects.get()
    with pytest.raises(CommandError, match="Only a stopped import can be resumed."):
        call_command("people", "import", "--resume", str(job.pk))


def test_people_export_command_unknown_segment_lists_the_real_ones(tmp_path):
    with pytest.raises(CommandError, match=r"No segment 'nope'. Segments: \(none\)"):
        call_command("people", "export", "--segment", "nope")


@pytest.mark.parametrize("size", ["0", "-5", "lots"])
def test_people_import_command_refuses_a_batch_size_that_is_not_a_count(tmp_path, size):
    path = write_csv(tmp_path, "email\na@example.org\n")
    with pytest.raises(CommandError, match="whole number of rows"):
        call_command("people", "import", str(path), "--batch-size", size)
    assert not ImportJob.objects.exists() and not Person.objects.exists()


def test_people_import_command_batch_size_sets_rows_per_transaction(tmp_path, capsys):
    path = write_csv(tmp_path, "email\n" + "".join(f"p{i}@example.org\n" for i in range(7)))
    call_command("people", "import", str(path), "--batch-size", "3")
    assert (
        "Created 7, updated 0, unchanged 0, possible duplicates 0, skipped 0 (of 7 rows)."
        in capsys.readouterr().out
    )


def test_people_import_command_without_batch_size_uses_the_default(tmp_path, monkeypatch):
    from rallypoint.imports.management.commands import people as command
    from rallypoint.imports.services import BATCH_SIZE

    sizes = []
    run = command.import_job_run

    def spied(**kwargs):
        sizes.append(kwargs["batch_size"])
        return run(**kwargs)

    monkeypatch.setattr(command, "import_job_run", spied)
    call_command("people", "import", str(write_csv(tmp_path, "email\na@example.org\n")))
    assert sizes == [BATCH_SIZE]


def test_people_import_command_lists_changes_and_writes_them_to_csv(tmp_path, capsys):
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org")
    path = write_csv(
        tmp_path,
        "email,first name,last name,phone\n"
        "mallory@example.org,Mallory,,303-555-0102\n"
        "ana@example.org,,Diaz,\n",
    )
    call_command("people", "import", str(path))
    mallory = Person.objects.get(given_name="Mallory")
    out = capsys.readouterr().out
    changes = tmp_path / "people.changes.csv"
    assert out.splitlines() == [
        "Created 1, updated 1, unchanged 0, possible duplicates 1, skipped 0 (of 2 rows).",
        "Updated:",
        f"  line 3: #{ana.pk} Ana Diaz",
        "Possible duplicates:",
        f"  line 2: #{mallory.pk} Mallory — phone number already on #{ben.pk} Ben Berg",
        f"People created or updated and possible duplicates: {changes}",
    ]
    assert changes.read_text().splitlines() == [
        "line,change,person_id,name,possible_duplicate_of,duplicate_name",
        f"2,created,{mallory.pk},Mallory,{ben.pk},Ben Berg",
        f"3,updated,{ana.pk},Ana Diaz,,",
    ]
    ben.refresh_from_db()
    assert (ben.given_name, ben.email_addresses.count()) == ("Ben", 0)


def test_people_import_command_update_by_phone_updates_the_phone_owner(tmp_path, capsys):
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+13035550102")
    path = write_csv(tmp_path, "email,phone\nben.new@example.org,303-555-0102\n")
    call_command("people", "import", str(path), "--update-by-phone")
    assert ImportJob.objects.get().update_by_phone is True
    assert list(ben.email_addresses.values_list("address", flat=True)) == ["ben.new@example.org"]
    assert Person.objects.count() == 1


def test_people_import_command_skipped_rows_file_defuses_formulas_in_the_header(tmp_path):
    path = write_csv(tmp_path, 'email,=HYPERLINK("x"),@cmd\n,=1+1,b\n')
    call_command("people", "import", str(path), "--map", "email=email")
    skipped = tmp_path / "people.skipped.csv"
    assert skipped.read_text().splitlines() == [
        'line,reason,email,"\'=HYPERLINK(""x"")",\'@cmd',
        "2,No email address and no phone number.,,'=1+1,b",
    ]
