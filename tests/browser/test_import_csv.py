"""An organizer imports a CSV with two bad rows, watches it finish, downloads the report."""

import urllib.request

import pytest

from rallypoint.imports.models import ImportJob
from rallypoint.people.models import Person
from tests.factories import OrganizerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
CSV = (
    "E-mail;Prénom;Nom;Code postal;Portable\n"
    "ana@example.org;Ana;Ruiz;80202;303-555-0101\n"
    "ben@example.org;Ben;Berg;10001;\n"
    "pas-un-email;Cy;Cole;94110;\n"
    ";Dee;Dunn;60614;\n"
    "eve@example.org;Ève;Éclair;30303;\n"
).encode("latin-1")


def test_import_csv_with_two_bad_rows_and_download_the_report(page, live_server, tmp_path):
    organizer = OrganizerFactory()
    urllib.request.urlopen(live_server.url + "/accounts/login/", timeout=90).read()
    page.goto("/imports/", wait_until="domcontentloaded")
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Import & export").wait_for()

    page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "fair.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.get_by_role("button", name="Upload and choose columns").click()
    page.get_by_role("heading", name="What is in each column?").wait_for()
    assert page.get_by_label("E-mail").input_value() == "email"
    # "Prénom" and "Nom" are not recognised: the organizer says what they are.
    page.get_by_label("Prénom").select_option("given_name")
    page.get_by_label("Nom", exact=True).select_option("family_name")
    page.get_by_label("Code postal").select_option("postal_code")
    page.get_by_label("Portable").select_option("phone")
    page.get_by_label("Tag everyone in this file").fill("Fair 2024")
    page.get_by_role("button", name="Start import").click()

    page.locator('[data-status="done"]').wait_for(timeout=30_000)
    assert page.locator('[data-count="created"]').inner_text() == "3"
    assert page.locator('[data-count="skipped"]').inner_text() == "2"
    page.screenshot(path=str(tmp_path / "import-done.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download skipped rows (CSV)").click()
    report = tmp_path / "report.csv"
    info.value.save_as(report)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines == [
        "line,reason,E-mail,Prénom,Nom,Code postal,Portable",
        "4,Email: That email address doesn't look right: An email address must have an"
        " @-sign.,pas-un-email,Cy,Cole,94110,",
        "5,No email address and no phone number.,,Dee,Dunn,60614,",
    ]
    assert sorted(Person.objects.values_list("given_name", flat=True)) == ["Ana", "Ben", "Ève"]
    assert ImportJob.objects.get().tags == ["Fair 2024"]
