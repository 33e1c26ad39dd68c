import pytest

from rallypoint.groups.models import Group
from tests.factories import OrganizerFactory
from tests.groups.factories import GroupFactory, MembershipFactory

PASSWORD = "correct horse battery"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_groups_merge_on_a_phone_previews_then_merges_on_confirmation(page):
    eastside = GroupFactory(name="Eastside", slug="eastside")
    westside = GroupFactory(name="Westside", slug="westside")
    MembershipFactory(group=eastside)
    MembershipFactory(group=eastside)
    MembershipFactory(group=westside)
    organizer = OrganizerFactory(email="lead@example.org")

    page.goto("/groups/organize/")
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/groups/organize/")

    # The list's Merge button only opens the preview: nothing is merged yet.
    page.get_by_label("Merge Eastside into").select_option("westside")
    page.get_by_label("Merge Eastside into").locator("xpath=..").get_by_role(
        "button", name="Merge…"
    ).click()
    page.wait_for_url("**/groups/eastside/merge/?target=westside")
    kept = page.get_by_role("region", name="Kept group")
    assert kept.get_by_role("heading", name="Westside").is_visible()
    assert "2 members move over" in page.inner_text("main")
    assert Group.objects.get(pk=eastside.pk).status == "active"

    # The merge button needs the confirmation box ticked.
    button = page.get_by_role("button", name="Merge “Eastside” into “Westside”")
    button.click()
    assert page.url.endswith("/groups/eastside/merge/?target=westside")
    assert Group.objects.get(pk=eastside.pk).status == "active"
    page.get_by_label("Yes, merge these groups").check()
    button.click()
    page.wait_for_url("**/groups/organize/")
    assert page.get_by_text("Eastside was merged into Westside.").is_visible()
    assert Group.objects.get(pk=eastside.pk).status == "merged"
