"""Email in a real browser: compose with the editor (a merge field, a button to an action, an
uploaded image, a segment found by searching), preview on a phone, send a test, send to the
segment; a recipient reads it on her phone, follows the button and signs; the report shows it.
Screenshots of each page at 390 and 1280 px go to /tmp/shots/ (when it exists)."""

import io
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from rallypoint.ledger.models import Activity
from rallypoint.messaging.models import Delivery, MailImage, Mailing, MailingStatus
from rallypoint.people.models import EmailStatus
from tests.actions.factories import ActionFactory
from tests.events.factories import person_with_email
from tests.factories import OrganizerFactory, PostalAddressFactory
from tests.messaging.factories import SegmentFactory, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
PHONE_MAIL_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
SHOTS = Path("/tmp/shots")


def shot(page, name: str) -> None:
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / f"mailings-{name}.png"), full_page=True)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def log_in(page, user, then: str) -> None:
    page.goto(then)
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{then}")


def test_compose_preview_test_send_and_report(new_context, live_server, settings, mailoutbox):
    settings.MAILING_FROM_ADDRESSES = ["Fund Our Schools <hello@fundourschools.org>"]
    settings.SITE_URL = live_server.url
    organizer = OrganizerFactory(
        email="lead@example.org", person=person_with_email("lead@example.org", given_name="Lee")
    )
    volunteers = SegmentFactory(name="Denver volunteers")
    SegmentFactory(name="Donors")
    ana = subscriber(volunteers, address="ana@example.org", given_name="Ana", family_name="Ruiz")
    PostalAddressFactory(person=ana, locality="Denver")
    subscriber(volunteers, address="ben@example.org", given_name="Ben")
    subscriber(volunteers, address="cy@example.org", status=EmailStatus.UNSUBSCRIBED)
    action = ActionFactory(title="Fund our schools", status="live")
    urllib.request.urlopen(live_server.url + "/mail/", timeout=90).read()  # warm the server

    # The organizer logs in and opens Email from the organizer menu.
    desk = new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.set_default_timeout(15_000)
    log_in(desk, organizer, "/organize/")
    desk.get_by_role("navigation", name="Organizer").get_by_role("link", name="Email").click()
    desk.wait_for_url("**/mail/")
    desk.get_by_role("link", name="New mailing").click()

    # Compose: subject, then the body in the editor with a merge field, bold text and a button.
    desk.get_by_label("Subject:", exact=True).fill("Our schools can't wait")
    desk.get_by_label("Campaign:").select_option(label=action.campaign.name)
    # Until the editor has taken over, "Message" is the plain textarea it hides.
    desk.locator(".mail-editor[data-ready]").wait_for()
    editor = desk.get_by_role("textbox", name="Message")
    editor.click()
    editor.press_sequentially("Hi ")
    desk.get_by_role("button", name="Insert merge field").click()
    merge = desk.get_by_role("group", name="Insert a merge field")
    assert merge.get_by_label("When unknown, write").input_value() == "friend"
    merge.get_by_role("button", name="Insert").click()
    editor.press_sequentially(",")
    editor.press("Enter")
    desk.get_by_role("button", name="Bold").click()
    editor.press_sequentially("The board votes Thursday.")
    desk.get_by_role("button", name="Bold").click()
    editor.press("Enter")
    desk.get_by_role("button", name="Button", exact=True).click()
    panel = desk.get_by_role("group", name="Insert a button")
    links_to = panel.get_by_label("Links to")
    links_to.locator("option", has_text="Sign: Fund our schools").wait_for(state="attached")
    links_to.select_option(label="Sign: Fund our schools")
    panel.get_by_role("button", name="Insert").click()
    # An image from the organizer's computer: uploaded, then inserted with its description.
    desk.get_by_role("button", name="Image", exact=True).click()
    image_panel = desk.get_by_role("group", name="Insert an image")
    image_panel.get_by_label("Upload from this device").set_input_files(
        {"name": "rally.png", "mimeType": "image/png", "buffer": _png(1600, 800)}
    )
    image_panel.get_by_text("Uploaded (1200 × 600 pixels)").wait_for()
    image_panel.get_by_label("Description (for people who can't see it)").fill("Our rally")
    image_panel.get_by_role("button", name="Insert").click()
    # A file that is not an image is refused with its reason.
    desk.get_by_role("button", name="Image", exact=True).click()
    image_panel.get_by_label("Upload from this device").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"}
    )
    image_panel.get_by_text("This file is not an image we can use.").wait_for()
    assert image_panel.get_by_label("or the image's address").input_value() == ""
    image_panel.get_by_role("button", name="Cancel").click()

    # The audience: find the segment by searching the list; the count follows.
    desk.get_by_label("Search: send to people in").fill("denver")
    assert not desk.get_by_label("Donors").first.is_visible()
    desk.get_by_role("group", name="Send to people in").get_by_label("Denver volunteers").check()
    desk.locator('#audience-count [data-audience-count="2"]').wait_for()
    assert (
        "minus unsubscribed, bounced and complained" in desk.locator("#audience-count").inner_text()
    )
    shot(desk, "compose-1280")
    desk.get_by_role("button", name="Save and review →").click()
    desk.wait_for_url("**/mail/*/")

    mailing = Mailing.objects.get()
    image = MailImage.objects.get()
    image_url = f"{live_server.url}/mail/m/i/{image.token}.png"
    assert mailing.body_html == (
        "<p>Hi {{ first_name | friend }},</p><p><strong>The board votes Thursday.</strong></p>"
        f'<p><a class="button" href="{live_server.url}/act/{action.slug}/" rel="noopener">'
        f'Sign: Fund our schools</a> <img src="{image_url}" alt="Our rally"></p>'
    )
    assert list(mailing.include_segments.all()) == [volunteers]

    # Review: preview as Ana, at desktop and at phone width.
    desk.get_by_label("Preview as:", exact=True).fill("ana@example.org")
    desk.get_by_role("button", name="Show").click()
    desk.frame_locator("iframe.mail-frame-desktop").get_by_text("Hi Ana,").wait_for()
    assert desk.locator("iframe.mail-frame-phone").evaluate("f => f.offsetWidth") == 375
    shot(desk, "review-1280")
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.set_default_timeout(15_000)
    log_in(phone, organizer, f"/mail/{mailing.pk}/")
    phone.goto(f"/mail/{mailing.pk}/?person_email=ana%40example.org")
    phone.frame_locator("iframe.mail-frame-phone").get_by_text("Hi Ana,").wait_for()
    # On a phone the page fits the screen: the phone preview fills the width it has.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator("iframe.mail-frame-phone").evaluate("f => f.offsetWidth") > 300
    shot(phone, "review-390")
    if SHOTS.is_dir():
        phone.locator(".mail-fig-phone").screenshot(path=str(SHOTS / "mailings-preview-390.png"))
    # Editing on the phone: the draft saves itself as the organizer writes.
    phone.goto(f"/mail/{mailing.pk}/edit/")
    phone.locator(".mail-editor[data-ready]").wait_for()
    body = phone.get_by_role("textbox", name="Message")
    body.get_by_text("The board votes Thursday.").click()
    phone.keyboard.press("End")
    phone.keyboard.type(" Bring a friend.")
    phone.get_by_role("status").get_by_text("Draft saved at").wait_for()
    mailing.refresh_from_db()
    assert "<strong>The board votes Thursday. Bring a friend.</strong>" in mailing.body_html
    shot(phone, "compose-390")

    # A test to the organizer's own address.
    assert desk.get_by_label("Send a test to:", exact=True).input_value() == "lead@example.org"
    desk.get_by_role("button", name="Send test").click()
    desk.get_by_text("Test sent to lead@example.org.").wait_for()
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["lead@example.org"], "[Test] Our schools can't wait")
    ]

    # Send now: the confirm step says how many, then it goes out.
    desk.get_by_role("link", name="Send now…").click()
    assert desk.locator("[data-audience-count]").inner_text() == "2"
    shot(desk, "send-1280")
    desk.get_by_role("button", name="Send to 2 people").click()
    desk.get_by_text("is going out to 2 people.").wait_for()
    sent_to = sorted(m.to[0] for m in mailoutbox[1:])
    assert sent_to == ["ana@example.org", "ben@example.org"]
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT

    # Ana reads it on her phone: the mail's images load (the open pixel), she presses the
    # button, lands on the action and signs.
    settings.MAILING_MACHINE_SECONDS = 0  # she reads it at once
    message = next(m for m in mailoutbox if m.to == ["ana@example.org"])
    html = message.alternatives[0][0]
    assert f'src="{image_url}"' in html
    reader = new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_MAIL_APP)
    inbox = reader.new_page()
    inbox.set_default_timeout(15_000)
    with inbox.expect_response(lambda r: "/mail/m/i/" in r.url and r.status == 200):
        inbox.set_content(html)
    assert inbox.locator('img[alt="Our rally"]').evaluate("i => i.naturalWidth") == 1200
    shot(inbox, "read-390")
    inbox.get_by_role("link", name="Sign: Fund our schools").click()
    inbox.wait_for_url(f"**/act/{action.slug}/**")
    inbox.get_by_label("ZIP / postal code").fill("80202")
    inbox.get_by_label("Email").fill("ana@example.org")
    inbox.get_by_label("First name").fill("Ana")
    inbox.get_by_label("Last name").fill("Ruiz")
    inbox.get_by_role("button", name="Add your name").click()
    inbox.get_by_label("Your personal link").wait_for()
    delivery = Delivery.objects.get(mailing=mailing, address="ana@example.org")
    assert delivery.human_opened_at is not None
    assert delivery.clicked_at is not None
    assert Activity.objects.get(person=ana, kind="sign").channel == "email"
    desk.reload()
    desk.get_by_role("link", name="See the report").click()
    assert desk.locator('[data-stat="sent"]').inner_text() == "2"
    assert desk.locator('[data-stat="opened_human"]').inner_text() == "1"
    assert desk.locator('[data-stat="acts"]').inner_text() == "1"
    assert desk.get_by_role("img", name="Human opens and clicks per hour").is_visible()
    shot(desk, "report-1280")
    phone.goto(f"/mail/{mailing.pk}/report/")
    assert phone.locator('[data-stat="clicked"]').inner_text() == "1"
    shot(phone, "report-390")
    phone.goto("/mail/")
    shot(phone, "list-390")
    desk.goto("/mail/")
    shot(desk, "list-1280")
