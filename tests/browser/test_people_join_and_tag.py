import pytest

from tests.factories import OrganizerFactory

PASSWORD = "correct horse battery"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_people_join_then_organizer_finds_and_tags(page, new_context):
    # A newcomer arrives on the home page and joins from the hero.
    page.goto("/")
    page.get_by_role("link", name="Join the movement").click()
    page.get_by_label("First name").fill("Imani")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Email").fill("imani.okafor@example.org")
    page.get_by_label("ZIP / postal code").fill("30303")
    page.get_by_role("button", name="Join", exact=True).click()
    page.wait_for_url("**/people/join/thanks/")
    assert page.get_by_role("heading", level=1).inner_text() == "You're in, Imani!"

    # An organizer logs in, finds them by email and tags them.
    organizer = OrganizerFactory(email="lead@example.org")
    desk = new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.goto("/people/")
    desk.wait_for_url("**/accounts/login/**")
    desk.get_by_label("Email").fill(organizer.email.upper())
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.wait_for_url("**/people/")
    desk.get_by_label("Name, email or phone").fill("imani.okafor@example.org")
    desk.get_by_role("button", name="Search").click()
    desk.get_by_role("link", name="Imani Okafor").click()
    desk.get_by_label("Add a tag").fill("Precinct captain")
    desk.get_by_role("button", name="Add", exact=True).click()
    tags = desk.get_by_role("list", name="Tags on this person")
    tags.get_by_text("Precinct captain").wait_for()
    assert tags.locator("li.tag").all_inner_texts()[0].startswith("Precinct captain")
    assert desk.get_by_role("button", name="Remove tag Precinct captain").is_visible()
