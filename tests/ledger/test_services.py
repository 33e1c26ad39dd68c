import pytest
from django.utils import timezone

from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.ledger.services import activity_record, recruitment_record
from rallypoint.people.referral import Referral
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_activity_record_uses_campaign_points_over_defaults():
    campaign = CampaignFactory(points={"sign": 4})
    person = PersonFactory()
    signed = activity_record(person=person, kind="sign", campaign=campaign)
    joined = activity_record(person=person, kind="join", campaign=campaign)
    assert (signed.points, joined.points) == (4, 1)


def test_activity_record_referral_sets_referrer_channel_and_recruitment():
    campaign = CampaignFactory(points={"recruit": 7})
    ana, ben = PersonFactory(), PersonFactory()
    act = activity_record(
        person=ben,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code, channel="whatsapp"),
        person_created=True,
    )
    assert (act.referrer, act.channel) == (ana, "whatsapp")
    edge = Recruitment.objects.get()
    assert (edge.recruiter, edge.recruit, edge.channel, edge.campaign) == (
        ana,
        ben,
        "whatsapp",
        campaign,
    )
    credit = Activity.objects.get(kind="recruit")
    assert (credit.person, credit.points, credit.target_id) == (ana, 7, str(ben.pk))


def test_activity_record_first_touch_wins_one_recruiter_per_campaign():
    campaign = CampaignFactory()
    ana, cal, ben = PersonFactory(), PersonFactory(), PersonFactory()
    activity_record(
        person=ben,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code, channel="x"),
        person_created=True,
    )
    activity_record(
        person=ben,
        kind="pledge",
        campaign=campaign,
        referral=Referral(code=cal.share_code, channel="email"),
    )
    assert list(Recruitment.objects.values_list("recruiter_id", flat=True)) == [ana.pk]
    assert Activity.objects.filter(kind="recruit").count() == 1


def test_activity_record_recruits_again_in_another_campaign():
    first, second = CampaignFactory(), CampaignFactory()
    ana, cal, ben = PersonFactory(), PersonFactory(), PersonFactory()
    activity_record(
        person=ben,
        kind="sign",
        campaign=first,
        referral=Referral(code=ana.share_code, channel="x"),
        person_created=True,
    )
    activity_record(
        person=ben,
        kind="sign",
        campaign=second,
        referral=Referral(code=cal.share_code, channel="sms"),
    )
    edges = set(Recruitment.objects.values_list("campaign_id", "recruiter_id"))
    assert edges == {(first.pk, ana.pk), (second.pk, cal.pk)}


def test_activity_record_ignores_self_referral():
    campaign = CampaignFactory()
    ana = PersonFactory()
    act = activity_record(
        person=ana,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code, channel="x"),
        person_created=True,
    )
    assert act.referrer is None
    assert Recruitment.objects.count() == 0
    assert Activity.objects.filter(kind="recruit").count() == 0


def test_activity_record_existing_member_is_not_recruited_after_acting():
    campaign = CampaignFactory()
    ana, ben = PersonFactory(), PersonFactory()
    activity_record(person=ben, kind="join", campaign=campaign)
    act = activity_record(
        person=ben, kind="sign", campaign=campaign, referral=Referral(code=ana.share_code)
    )
    assert act.referrer == ana  # the act still credits the link it came through
    assert Recruitment.objects.count() == 0


def test_activity_record_unknown_code_keeps_channel_but_no_referrer():
    campaign = CampaignFactory()
    act = activity_record(
        person=PersonFactory(),
        kind="sign",
        campaign=campaign,
        referral=Referral(code="zzzz9999", channel="facebook"),
    )
    assert (act.referrer, act.channel) == (None, "facebook")


def test_activity_record_explicit_channel_for_shares():
    act = activity_record(
        person=PersonFactory(), kind="share", campaign=CampaignFactory(), channel="direct"
    )
    assert act.channel == "direct"


def test_activity_record_new_person_twice_still_one_recruiter():
    campaign = CampaignFactory()
    ana, cal, ben = PersonFactory(), PersonFactory(), PersonFactory()
    for recruiter in (ana, cal):  # e.g. two racing submissions both saw a brand-new person
        activity_record(
            person=ben,
            kind="sign",
            campaign=campaign,
            referral=Referral(code=recruiter.share_code, channel="x"),
            person_created=True,
        )
    assert list(Recruitment.objects.values_list("recruiter_id", flat=True)) == [ana.pk]
    assert list(Activity.objects.filter(kind="recruit").values_list("person_id", flat=True)) == [
        ana.pk
    ]


def test_activity_record_recruitment_statements_for_new_person(django_assert_num_queries):
    campaign = CampaignFactory()
    ana, ben = PersonFactory(), PersonFactory()
    referral = Referral(code=ana.share_code, channel="x")
    activity_record(person=PersonFactory(), kind="sign", campaign=campaign)  # warm caches
    # referrer lookup, edge (insert or skip), the edge read back, the act and the recruiter's
    # act in one insert
    with django_assert_num_queries(4):
        activity_record(
            person=ben, kind="sign", campaign=campaign, referral=referral, person_created=True
        )


def test_activity_record_recruitment_statements_for_known_person(django_assert_num_queries):
    campaign = CampaignFactory()
    ana, ben = PersonFactory(), PersonFactory()
    referral = Referral(code=ana.share_code, channel="x")
    activity_record(person=PersonFactory(), kind="sign", campaign=campaign)  # warm caches
    # referrer lookup, earlier acts in the campaign, edge (insert or skip), the edge read back,
    # both acts
    with django_assert_num_queries(5):
        activity_record(person=ben, kind="sign", campaign=campaign, referral=referral)
    assert list(Recruitment.objects.values_list("recruiter_id", "recruit_id")) == [(ana.pk, ben.pk)]


def test_activity_record_known_referrer_skips_the_lookup(django_assert_num_queries):
    campaign = CampaignFactory(points={"recruit": 3})
    ana, ben = PersonFactory(), PersonFactory()
    referral = Referral(code=ana.share_code, channel="sms")
    activity_record(person=PersonFactory(), kind="sign", campaign=campaign)  # warm caches
    # edge (insert or skip), the edge read back, the act and the recruiter's act in one insert
    with django_assert_num_queries(3):
        act = activity_record(
            person=ben,
            kind="sign",
            campaign=campaign,
            referral=referral,
            referrer=ana,
            person_created=True,
        )
    credit = Activity.objects.get(kind="recruit")
    assert (act.referrer, act.channel) == (ana, "sms")
    assert (credit.person, credit.points, credit.target_id, credit.pk) == (
        ana,
        3,
        str(ben.pk),
        act.pk + 1,
    )


def test_activity_record_known_referrer_none_records_no_referrer():
    campaign = CampaignFactory()
    ana, ben = PersonFactory(), PersonFactory()
    act = activity_record(
        person=ben,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code, channel="x"),
        referrer=None,
        person_created=True,
    )
    assert (act.referrer, act.channel) == (None, "x")
    assert Recruitment.objects.count() == 0


def test_recruitment_record_stores_edge_and_credit_once():
    campaign = CampaignFactory()
    ana, ben = PersonFactory(), PersonFactory()
    at = timezone.now()
    values = {"recruit": ben, "campaign": campaign, "channel": "x", "at": at}
    first = recruitment_record(recruiter=ana, person_created=True, **values)
    second = recruitment_record(recruiter=PersonFactory(), person_created=True, **values)
    assert (first.recruiter, second) == (ana, None)
    assert list(Activity.objects.values_list("person_id", "kind", "target_id")) == [
        (ana.pk, "recruit", str(ben.pk))
    ]
