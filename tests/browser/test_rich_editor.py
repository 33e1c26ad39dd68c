import pytest

from rallypoint.mission.models import Campaign
from tests.factories import OrganizerFactory

PASSWORD = "correct horse battery"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_campaign_story_is_written_in_the_rich_text_editor(page):
    organizer = OrganizerFactory(email="lead@example.org")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/campaigns/organize/new/")
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/campaigns/organize/new/")
    page.locator("#id_name").fill("Fund our schools")
    editor = page.locator(".rich-editor .ql-editor")
    editor.click()
    page.keyboard.type("Every child ")
    page.keyboard.press("Control+b")
    page.keyboard.type("deserves")
    page.keyboard.press("Control+b")
    page.keyboard.type(" a good school.")
    assert page.locator("textarea[name=story]").is_hidden()
    page.screenshot(path="/tmp/shots/rich-editor-390.png", full_page=True)
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url("**/campaigns/organize/**")
    story = Campaign.objects.get().story
    assert "<strong>deserves</strong>" in story
    assert "a good school." in story
