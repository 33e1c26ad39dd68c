"""Composing mailings: sanitising the body, checking the fields, drafts only, duplicate, delete."""

import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.messaging.models import Mailing, MailingStatus, MailingVariant
from rallypoint.messaging.services.compose import (
    body_sanitize,
    from_addresses,
    mailing_create,
    mailing_delete,
    mailing_duplicate,
    mailing_update,
)
from tests.factories import OrganizerFactory
from tests.messaging.factories import MailingFactory, SegmentFactory, ab_mailing
from tests.mission.factories import CampaignFactory

FROM = ["Fund Our Schools <hello@fundourschools.org>", "news@fundourschools.org"]


@pytest.fixture(autouse=True)
def _from_addresses(settings):
    settings.MAILING_FROM_ADDRESSES = FROM
    settings.SITE_URL = "https://act.example.org"


# --- body_sanitize ----------------------------------------------------------------------------


def test_body_sanitize_strips_scripts_and_event_handlers():
    html = (
        "<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(1)>"
        '<p onclick="steal()">Read</p><style>p{color:red}</style>'
        '<iframe src="https://evil.example"></iframe>'
    )
    assert body_sanitize(html) == "<p>Hi</p><p>Read</p>"


def test_body_sanitize_refuses_javascript_and_data_urls():
    html = (
        '<a href="javascript:alert(1)">x</a><a href="data:text/html,hi">y</a>'
        '<img src="data:image/png;base64,AAAA" alt="d"><img src="javascript:alert(1)">'
    )
    assert body_sanitize(html) == '<a rel="noopener">x</a><a rel="noopener">y</a>'


def test_body_sanitize_keeps_formatting_links_images_and_button_class():
    html = (
        '<h2 class="ql-align-center">News</h2><p><strong>Bold</strong> <em>it</em> <u>u</u></p>'
        '<ul><li data-list="bullet">one</li></ul><ol><li>two</li></ol><blockquote>q</blockquote>'
        '<p><a href="https://example.org/a" target="_blank">link</a> '
        '<a class="button other" href="https://example.org/act">Sign</a></p>'
        '<p><img src="https://example.org/i.png" alt="A rally" style="width:1px"></p>'
    )
    assert body_sanitize(html) == (
        "<h2>News</h2><p><strong>Bold</strong> <em>it</em> <u>u</u></p>"
        "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>q</blockquote>"
        '<p><a href="https://example.org/a" rel="noopener">link</a> '
        '<a class="button" href="https://example.org/act" rel="noopener">Sign</a></p>'
        '<p><img src="https://example.org/i.png" alt="A rally"></p>'
    )


def test_body_sanitize_makes_relative_links_absolute():
    assert body_sanitize('<a href="/act/fund/">Sign</a>') == (
        '<a href="https://act.example.org/act/fund/" rel="noopener">Sign</a>'
    )


def test_body_sanitize_writes_merge_tags_with_plain_spaces():
    html = "<p>Hi&nbsp;{{&nbsp;first_name&nbsp;|&nbsp;friend&nbsp;}},</p>"
    assert body_sanitize(html) == "<p>Hi&nbsp;{{ first_name | friend }},</p>"


@pytest.mark.parametrize("empty", ["", "<p><br></p>", "<p></p>", "  <p>&nbsp;</p> "])
def test_body_sanitize_empty_editor_is_an_empty_body(empty):
    assert body_sanitize(empty) == ""


def test_body_sanitize_drops_nul_bytes_and_lone_surrogates():
    assert body_sanitize("<p>a\x00b\ud800c</p>") == "<p>abc</p>"


# --- create and update ------------------------------------------------------------------------


def test_from_addresses_reads_the_setting_in_order():
    assert [(a.name, a.address) for a in from_addresses()] == [
        ("Fund Our Schools", "hello@fundourschools.org"),
        ("", "news@fundourschools.org"),
    ]


@pytest.mark.django_db
def test_mailing_create_fills_sender_defaults_and_sanitises():
    organizer = OrganizerFactory()
    segment = SegmentFactory()
    mailing = mailing_create(
        organizer,
        subject="Hello {{ first_name | friend }}",
        body_html='<p>Hi</p><img src=x onerror="alert(1)">',
        include_segments=[segment],
    )
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    assert mailing.name == "Hello {{ first_name | friend }}"
    assert mailing.from_address == "hello@fundourschools.org"
    assert mailing.from_name == "Fund Our Schools"
    assert mailing.body_html == "<p>Hi</p>"
    assert mailing.created_by == organizer
    assert list(mailing.include_segments.all()) == [segment]
    assert AuditEntry.objects.filter(action="mailing.created", object_id=str(mailing.pk)).count()


@pytest.mark.django_db
def test_mailing_create_from_name_of_an_unnamed_address_is_the_campaign():
    campaign = CampaignFactory(name="Fund Our Schools")
    mailing = mailing_create(None, from_address="news@fundourschools.org", campaign=campaign)
    assert mailing.from_name == "Fund Our Schools"


@pytest.mark.django_db
def test_mailing_create_refuses_an_unverified_from_address():
    with pytest.raises(ValidationError) as caught:
        mailing_create(None, from_address="ceo@elsewhere.example")
    assert caught.value.message_dict["from_address"] == [
        "Send from one of the verified addresses: hello@fundourschools.org, "
        "news@fundourschools.org (MAILING_FROM_ADDRESSES)."
    ]
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reply_to": "not an address"}, "reply_to", "Enter an email address for replies."),
        ({"kind": "spam"}, "kind", "Choose what kind of mail this is."),
        ({"subject": "x" * 301}, "subject", "Keep it to 300 characters (it has 301)."),
        (
            {"subject": "Hi\x00"},
            "subject",
            "Remove the invisible control characters from this text.",
        ),
        ({"include_segments": [987654]}, "include_segments", None),
        ({"ab_metric": "vibes"}, "ab_metric", "Pick the winner by clicks or by opens."),
        (
            {"ab_wait_minutes": 1},
            "ab_wait_minutes",
            "Wait between 10 minutes and 7 days before picking the winner.",
        ),
    ],
)
def test_mailing_create_bad_fields_say_what_is_wrong(fields, field, message):
    with pytest.raises(ValidationError) as caught:
        mailing_create(None, **fields)
    errors = caught.value.message_dict[field]
    assert errors == [message or "One of the chosen segments no longer exists."]
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
def test_mailing_create_refuses_a_segment_both_included_and_excluded():
    segment = SegmentFactory(name="Volunteers")
    with pytest.raises(ValidationError) as caught:
        mailing_create(None, include_segments=[segment], exclude_segments=[segment])
    assert caught.value.message_dict["exclude_segments"] == [
        "A segment can't be both included and excluded: Volunteers."
    ]


@pytest.mark.django_db
def test_mailing_create_with_extra_subjects_makes_variants():
    mailing = mailing_create(
        None,
        subject="Will you sign?",
        extra_subjects=["One minute for our schools", "", "Our schools need you"],
        ab_sample_percent=20,
        ab_wait_minutes=120,
        ab_metric="opens",
    )
    variants = list(mailing.variants.values_list("label", "subject"))
    assert variants == [
        ("A", "Will you sign?"),
        ("B", "One minute for our schools"),
        ("C", "Our schools need you"),
    ]
    assert (mailing.ab_sample_percent, mailing.ab_wait_minutes, mailing.ab_metric) == (
        20,
        120,
        "opens",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"subject": "Same", "extra_subjects": ["Same"], "ab_sample_percent": 20},
            "extra_subjects",
            "Each subject in a test must be different.",
        ),
        (
            {"subject": "A", "extra_subjects": ["B"], "ab_sample_percent": 0},
            "ab_sample_percent",
            "Say what share of the audience gets the test (e.g. 20%).",
        ),
        (
            {"subject": "A", "extra_subjects": ["B", "C", "D", "E"], "ab_sample_percent": 20},
            "extra_subjects",
            "Test at most 3 other subjects.",
        ),
        (
            {"subject": "", "extra_subjects": ["B"], "ab_sample_percent": 20},
            "subject",
            "Write the first subject before testing others.",
        ),
    ],
)
def test_mailing_create_ab_test_mistakes(fields, field, message):
    with pytest.raises(ValidationError) as caught:
        mailing_create(None, **fields)
    assert caught.value.message_dict[field] == [message]
    assert MailingVariant.objects.count() == 0


@pytest.mark.django_db
def test_mailing_update_changes_only_the_given_fields():
    segment = SegmentFactory()
    mailing = MailingFactory(include=[segment], reply_to="team@example.org")
    mailing_update(mailing, None, subject="New subject", body_html="<p>New</p><script>x</script>")
    mailing.refresh_from_db()
    assert (mailing.subject, mailing.body_html, mailing.reply_to) == (
        "New subject",
        "<p>New</p>",
        "team@example.org",
    )
    assert list(mailing.include_segments.all()) == [segment]


@pytest.mark.django_db
def test_mailing_update_keeps_variant_a_in_step_with_the_subject():
    mailing = ab_mailing("First", "Second")
    mailing_update(mailing, None, subject="First, better")
    assert list(mailing.variants.values_list("label", "subject")) == [
        ("A", "First, better"),
        ("B", "Second"),
    ]
    mailing_update(mailing, None, extra_subjects=[])
    assert mailing.variants.count() == 0
    assert mailing.ab_sample_percent == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [MailingStatus.SCHEDULED, MailingStatus.SENDING, MailingStatus.SENT]
)
def test_mailing_update_refuses_anything_but_a_draft(status):
    mailing = MailingFactory(status=status, subject="Kept")
    with pytest.raises(ValidationError) as caught:
        mailing_update(mailing, None, subject="Changed")
    assert caught.value.messages[0].startswith("Only a draft can be changed")
    mailing.refresh_from_db()
    assert mailing.subject == "Kept"


# --- duplicate and delete ---------------------------------------------------------------------


@pytest.mark.django_db
def test_mailing_duplicate_copies_content_audience_and_test_as_a_new_draft():
    include, exclude = SegmentFactory(), SegmentFactory()
    original = ab_mailing(
        "First",
        "Second",
        status=MailingStatus.SENT,
        include=[include],
        exclude=[exclude],
        reply_to="team@example.org",
        track_opens=False,
        total_targeted=12,
    )
    organizer = OrganizerFactory()
    copy = mailing_duplicate(original, organizer)
    assert copy.pk != original.pk
    assert copy.name == f"Copy of {original.name}"
    assert copy.status == MailingStatus.DRAFT
    assert copy.created_by == organizer
    assert copy.total_targeted is None
    assert (copy.subject, copy.body_html, copy.reply_to, copy.track_opens) == (
        original.subject,
        original.body_html,
        "team@example.org",
        False,
    )
    assert list(copy.include_segments.all()) == [include]
    assert list(copy.exclude_segments.all()) == [exclude]
    assert list(copy.variants.values_list("label", "subject")) == [("A", "First"), ("B", "Second")]
    assert original.variants.count() == 2


@pytest.mark.django_db
def test_mailing_delete_removes_a_draft_only():
    draft = MailingFactory()
    sent = MailingFactory(status=MailingStatus.SENT)
    mailing_delete(draft, None)
    with pytest.raises(ValidationError):
        mailing_delete(sent, None)
    assert list(Mailing.objects.all()) == [sent]
