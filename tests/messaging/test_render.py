"""One message for one person: merge fields (missing values, hostile names), the brand wrapper,
the plain-text part, the headers."""

from html import escape

import pytest

from rallypoint.messaging.services.render import (
    MailingTemplate,
    delivery_message_id,
    email_message,
    html_to_text,
    mailing_render,
    merge_values,
)
from rallypoint.mission.models import Campaign
from tests.factories import EmailAddressFactory, PersonFactory, PostalAddressFactory
from tests.messaging.factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db


def person(**fields):
    found = PersonFactory(**fields)
    EmailAddressFactory(person=found, address="ana@example.org")
    return found


def render_body(body: str, someone=None, **mailing_fields):
    mailing = MailingFactory(body_html=body, **mailing_fields)
    return mailing_render(mailing, person=someone)


def body_of(rendered) -> str:
    """The organizer's part of the HTML (between the wrapper's body cell tags)."""
    start = rendered.html.index('word-wrap:break-word">') + len('word-wrap:break-word">')
    return rendered.html[start : rendered.html.index("</td></tr>", start)]


# --- merge fields -----------------------------------------------------------------------------


def test_merge_fields_in_subject_preview_and_body():
    ana = person(given_name="Ana", family_name="Ruiz")
    PostalAddressFactory(person=ana, locality="Denver", postal_code="80202")
    rendered = render_body(
        "<p>{{ first_name }} {{ last_name }} / {{ full_name }} / {{ email }} / {{ city }} "
        "{{ postal_code }}</p>",
        ana,
        subject="For {{ first_name }} in {{ city }}",
        preview_text="{{ full_name }}, read this",
    )
    assert rendered.subject == "For Ana in Denver"
    assert rendered.preview_text == "Ana Ruiz, read this"
    assert body_of(rendered) == ("<p>Ana Ruiz / Ana Ruiz / ana@example.org / Denver 80202</p>")
    assert "Ana Ruiz / Ana Ruiz / ana@example.org / Denver 80202" in rendered.text


def test_missing_values_take_the_fallback_or_nothing():
    nobody = person(given_name="", family_name="")
    rendered = render_body(
        "<p>Hi {{ first_name | friend }}! {{ last_name }}.{{ city | your town }}</p>",
        nobody,
        subject='Hello {{ first_name | "dear friend" }}',
    )
    assert rendered.subject == "Hello dear friend"
    assert body_of(rendered) == "<p>Hi friend! .your town</p>"


def test_without_a_person_every_field_shows_its_fallback():
    rendered = render_body("<p>Hi {{ first_name | friend }}, {{ email }}</p>", None)
    assert body_of(rendered) == "<p>Hi friend, </p>"


def test_unknown_fields_stay_visible_and_nothing_is_a_template():
    ana = person(given_name="Ana")
    rendered = render_body(
        "<p>{{ shoe_size }} {% if 1 %}x{% endif %} {{ first_name.upper }} {{ first_name }}</p>",
        ana,
        subject="{{ settings.SECRET_KEY }} {% debug %}",
    )
    assert rendered.subject == "{{ settings.SECRET_KEY }} {% debug %}"
    assert body_of(rendered) == (
        "<p>{{ shoe_size }} {% if 1 %}x{% endif %} {{ first_name.upper }} Ana</p>"
    )


@pytest.mark.parametrize(
    "name",
    [
        '<script>alert("x")</script>',
        '"><img src=x onerror=alert(1)>',
        "Ana & <b>Ben</b>",
        "{{ first_name }}",
    ],
)
def test_hostile_names_are_escaped_in_the_html(name):
    someone = person(given_name=name)
    rendered = render_body(
        '<p>Hi {{ first_name }}</p><p><a href="https://example.org/?n={{ first_name }}">x</a></p>',
        someone,
        subject="Hi {{ first_name }}",
        preview_text="{{ first_name }}",
    )
    body = body_of(rendered)
    assert f"<p>Hi {escape(name)}</p>" in body
    # In an attribute too: the quote cannot end it.
    assert f'href="https://example.org/?n={escape(name)}"' in body
    for tag in ("<script", "<img src=x", "<b>"):
        assert tag not in rendered.html
    assert escape(name) in rendered.html.split("display:none")[1].split("</div>")[0]
    # Subjects are plain text, not HTML: the name as it is (it is never a template either).
    assert rendered.subject == f"Hi {name}"


def test_a_name_with_line_breaks_cannot_add_headers():
    someone = person(given_name="Ana\r\nBcc: all@example.org")
    rendered = render_body("<p>x</p>", someone, subject="Hi {{ first_name }}")
    assert rendered.subject == "Hi Ana Bcc: all@example.org"
    message = email_message(MailingFactory(), rendered, to="ana@example.org")
    assert "Bcc" not in str(message.message()).split("\n\n", 1)[0].replace(
        "Subject: Hi Ana Bcc: all@example.org", ""
    )


def test_merge_values_read_the_primary_address_and_place():
    ana = person(given_name="Ana")
    PostalAddressFactory(person=ana, primary=False, locality="Boulder", postal_code="80301")
    PostalAddressFactory(person=ana, primary=True, locality="Denver", postal_code="80202")
    values = merge_values(ana)
    assert (values["email"], values["city"], values["postal_code"]) == (
        "ana@example.org",
        "Denver",
        "80202",
    )


# --- the wrapper, the text part, the headers --------------------------------------------------


def test_wrapper_has_brand_preheader_footer_and_campaign(settings):
    settings.RALLYPOINT_BRAND = {
        **settings.RALLYPOINT_BRAND,
        "name": "Clean Air Now",
        "primary": "#0f766e",
        "logo_url": "https://example.org/logo.png",
    }
    campaign = Campaign.objects.create(name="Save the River", slug="river")
    rendered = render_body("<p>Body</p>", None, preview_text="The short preview", campaign=campaign)
    assert 'name="viewport"' in rendered.html
    assert "background:#0f766e" in rendered.html
    assert '<img src="https://example.org/logo.png" alt="Clean Air Now"' in rendered.html
    assert "display:none" in rendered.html.split("The short preview")[0].rsplit("<div", 1)[1]
    assert "Save the River · Clean Air Now" in rendered.html
    assert ">Unsubscribe</a>" in rendered.html
    assert ">Email preferences</a>" in rendered.html
    # A preview: the footer links act on nobody.
    assert f'href="{settings.SITE_URL}/" style="color:#6b7280">Unsubscribe' in rendered.html
    assert rendered.headers == {}


def test_buttons_links_and_images_are_styled_inline():
    rendered = render_body(
        '<p><a href="https://example.org/sign" class="button">Sign</a> '
        '<a href="https://example.org/read">read</a> <img src="https://example.org/a.png" '
        'alt="A"></p>',
        None,
    )
    body = body_of(rendered)
    assert 'class="button" style="display:inline-block;background:#1d4ed8' in body
    assert '<a href="https://example.org/read" style="color:#1d4ed8' in body
    assert 'alt="A" style="max-width:100%;height:auto;border:0">' in body


def test_plain_text_keeps_paragraphs_lists_and_links():
    text = html_to_text(
        "<h2>News</h2><p>First line<br>second line</p><ul><li>one</li><li>two</li></ul>"
        '<p><a href="https://example.org/act">Act now</a> or '
        '<a href="https://example.org/x">https://example.org/x</a> or '
        '<a href="mailto:team@example.org">team@example.org</a></p>'
        '<p><img src="https://example.org/a.png" alt="A map"> &amp; more</p>'
    )
    assert text == (
        "News\n\nFirst line\nsecond line\n\n- one\n- two\n\n"
        "Act now (https://example.org/act) or https://example.org/x or team@example.org\n\n"
        "[A map] & more"
    )


def test_a_delivery_gets_tracking_unsubscribe_headers_and_its_message_id(settings):
    settings.MAILING_TRACKING = True
    delivery = DeliveryFactory(mailing__body_html='<p><a href="https://example.org/a">a</a></p>')
    rendered = mailing_render(delivery.mailing, delivery=delivery)
    assert rendered.message_id == delivery_message_id(delivery.mailing, delivery)
    assert rendered.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert rendered.headers["List-Unsubscribe"].startswith(f"<{settings.SITE_URL}/mail/m/u/")
    assert "/mail/m/c/" in rendered.html  # the link is a signed redirect
    assert "/mail/m/o/" in rendered.html  # the open pixel
    assert 'href="https://example.org/a"' not in rendered.html
    # The plain-text part names the link itself.
    assert "a (https://example.org/a)" in rendered.text


def test_tracking_off_globally_or_per_mailing(settings):
    for global_on, mailing_on in ((False, True), (True, False)):
        settings.MAILING_TRACKING = global_on
        delivery = DeliveryFactory(
            mailing__body_html='<p><a href="https://example.org/a">a</a></p>',
            mailing__track_clicks=mailing_on,
            mailing__track_opens=mailing_on,
        )
        rendered = mailing_render(delivery.mailing, delivery=delivery)
        assert "/mail/m/c/" not in rendered.html
        assert "/mail/m/o/" not in rendered.html
        assert 'href="https://example.org/a"' in rendered.html


def test_message_has_from_reply_to_and_both_parts():
    delivery = DeliveryFactory(
        mailing__from_name="Ana, for the Campaign", mailing__reply_to="replies@example.org"
    )
    rendered = mailing_render(delivery.mailing, delivery=delivery)
    message = email_message(delivery.mailing, rendered, to=delivery.address, delivery=delivery)
    built = message.message()
    assert built["From"] == f'"Ana, for the Campaign" <{delivery.mailing.from_address}>'
    assert built["Reply-To"] == "replies@example.org"
    assert built["Message-ID"] == rendered.message_id
    assert built["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    kinds = [part.get_content_type() for part in built.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]


def test_bounce_address_is_the_return_path_and_from_stays(settings):
    settings.MAILING_BOUNCE_ADDRESS = "bounces@mail.example.org"
    delivery = DeliveryFactory()
    rendered = mailing_render(delivery.mailing, delivery=delivery)
    message = email_message(delivery.mailing, rendered, to=delivery.address, delivery=delivery)
    assert message.from_email == f"bounces+{delivery.token.hex}@mail.example.org"
    assert message.message()["From"].endswith(f"<{delivery.mailing.from_address}>")


def test_a_variant_subject_is_used_for_its_delivery():
    from rallypoint.messaging.models import MailingVariant

    delivery = DeliveryFactory(mailing__subject="A subject")
    variant = MailingVariant.objects.create(
        mailing=delivery.mailing, label="B", subject="B for {{ first_name | you }}"
    )
    delivery.variant = variant
    delivery.person.given_name = ""
    assert mailing_render(delivery.mailing, delivery=delivery).subject == "B for you"


def test_compiled_once_renders_many(django_assert_num_queries):
    mailing = MailingFactory(body_html="<p>Hi {{ first_name }}</p>")
    template = MailingTemplate(mailing)
    with django_assert_num_queries(0):
        first = template.render(values={"first_name": "Ana"})
        second = template.render(values={"first_name": "Ben"})
    assert "Hi Ana" in first.html and "Hi Ben" in second.html
    assert first.message_id != second.message_id


@pytest.mark.parametrize(
    ("subject", "name"),
    [("Hello {{ first_name }}", "Ana"), ("Olá {{ first_name }} — ça va ?", "Chloé")],
)
def test_message_bytes_read_back_as_django_writes_them(subject, name, settings):
    from email import message_from_bytes
    from email.policy import default

    from rallypoint.messaging.services.render import message_bytes

    settings.MAILING_BOUNCE_ADDRESS = "bounces@mail.example.org"
    delivery = DeliveryFactory(
        mailing__subject=subject,
        mailing__from_name="Équipe",
        mailing__reply_to="replies@example.org",
        mailing__body_html="<p>" + "Long line with é and = signs. " * 60 + "</p>",
        person__given_name=name,
    )
    rendered = mailing_render(delivery.mailing, delivery=delivery)
    message = email_message(delivery.mailing, rendered, to=delivery.address, delivery=delivery)
    ours = message_from_bytes(message_bytes(message), policy=default)
    django = message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=default)
    for header in ("From", "To", "Subject", "Message-ID", "Reply-To", "List-Unsubscribe"):
        # (Django folds a long Message-ID onto a second line: the same value.)
        assert str(ours[header]) == str(django[header]).strip(), header
    assert ours["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def content(part) -> str:  # line ends as the reader's system writes them
        return part.get_content().replace("\r\n", "\n")

    assert [content(p) for p in ours.iter_parts()] == [content(p) for p in django.iter_parts()]
    assert content(ours.get_body(("plain",))) == rendered.text
    assert content(ours.get_body(("html",))) == rendered.html
    assert max(len(line) for line in message_bytes(message).split(b"\r\n")) <= 998
