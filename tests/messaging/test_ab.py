"""The A/B subject test: a sample split evenly across the subjects, the rest held; the winner by
human clicks or human opens; the rest released with the winner's subject."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from rallypoint.messaging.models import Delivery, DeliveryStatus, MailingStatus
from rallypoint.messaging.services.ab import ab_decide, ab_results
from rallypoint.messaging.services.delivery import (
    mailing_cancel,
    mailing_send,
    mailing_send_run,
    mailing_snapshot,
    mailings_process,
)
from tests.messaging.factories import ab_mailing, audience_of

pytestmark = pytest.mark.django_db


def sample_sent(people: int, *subjects: str, sample: int = 50, metric: str = "clicks"):
    """An A/B mailing to `people` people, its audience taken and its sample sent."""
    segment, _ = audience_of(people)
    mailing = ab_mailing(*subjects, sample_percent=sample, metric=metric, include=[segment])
    mailing_send(mailing)
    mailing_snapshot(mailing.pk)
    mailing_send_run(mailing.pk)
    mailing.refresh_from_db()
    return mailing


def by_variant(mailing) -> dict[str, int]:
    rows = Delivery.objects.filter(mailing=mailing, variant__isnull=False)
    return dict(Counter(rows.values_list("variant__label", flat=True)))


def test_sample_is_split_evenly_and_the_rest_is_held():
    mailing = sample_sent(60, "Subject A", "Subject B", "Subject C", sample=50)
    counts = by_variant(mailing)
    sampled = sum(counts.values())
    held = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.HELD).count()
    assert sampled + held == 60
    assert 10 <= sampled <= 50  # about half (a random sample)
    assert sorted(counts) == ["A", "B", "C"]
    assert max(counts.values()) - min(counts.values()) <= 1
    # Only the sample went out, each with its variant's subject; the mailing waits.
    assert len(mail.outbox) == sampled
    sent_subjects = Counter(m.subject for m in mail.outbox)
    assert sent_subjects == {f"Subject {label}": n for label, n in counts.items()}
    assert mailing.status == MailingStatus.SENDING
    assert mailing.ab_decide_at is not None
    assert mailing.ab_decide_at > timezone.now() + timedelta(minutes=mailing.ab_wait_minutes - 1)


def test_a_whole_audience_sample_holds_nobody():
    mailing = sample_sent(10, "One", "Two", sample=100)
    assert by_variant(mailing) == {"A": 5, "B": 5}
    assert not Delivery.objects.filter(status=DeliveryStatus.HELD).exists()
    assert mailing.status == MailingStatus.SENT


def _engage(mailing, label: str, count: int, *, field: str) -> None:
    ids = Delivery.objects.filter(
        mailing=mailing, variant__label=label, status=DeliveryStatus.SENT
    ).values_list("pk", flat=True)[:count]
    Delivery.objects.filter(pk__in=list(ids)).update(**{field: timezone.now()})


def test_winner_by_clicks_gets_the_rest(django_capture_on_commit_callbacks):
    mailing = sample_sent(80, "Plain subject", "Better subject", sample=50)
    held = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.HELD).count()
    _engage(mailing, "A", 1, field="clicked_at")
    _engage(mailing, "B", 3, field="clicked_at")
    _engage(mailing, "A", 5, field="human_opened_at")  # opens don't count for clicks
    mail.outbox.clear()
    later = mailing.ab_decide_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        decision = ab_decide(mailing.pk, now=later)
    assert (decision.winner.label, decision.released) == ("B", held)
    mailing.refresh_from_db()
    assert mailing.ab_winner.label == "B"
    assert mailing.status == MailingStatus.SENT
    assert {m.subject for m in mail.outbox} == {"Better subject"}
    assert len(mail.outbox) == held
    # The report's test results count the sample only.
    results = {r.variant.label: (r.clicked, r.opened) for r in ab_results(mailing)}
    assert results == {"A": (1, 5), "B": (3, 0)}


def test_winner_by_human_opens():
    mailing = sample_sent(80, "A subject", "B subject", sample=50, metric="opens")
    _engage(mailing, "A", 4, field="human_opened_at")
    _engage(mailing, "B", 2, field="human_opened_at")
    _engage(mailing, "B", 9, field="opened_at")  # machine opens: not a person's
    _engage(mailing, "B", 9, field="clicked_at")
    decision = ab_decide(mailing.pk, now=mailing.ab_decide_at)
    assert decision.winner.label == "A"


def test_a_tie_goes_to_the_first_subject():
    mailing = sample_sent(80, "A subject", "B subject", sample=50)
    assert ab_decide(mailing.pk, now=mailing.ab_decide_at).winner.label == "A"


def test_no_decision_before_its_time_unless_forced_and_only_once():
    mailing = sample_sent(40, "A subject", "B subject", sample=50)
    assert ab_decide(mailing.pk) is None
    assert ab_decide(mailing.pk, force=True).winner.label == "A"
    assert ab_decide(mailing.pk, force=True) is None
    mailing.refresh_from_db()
    assert mailing.ab_decide_at <= timezone.now()


def test_mailings_process_decides_due_tests(django_capture_on_commit_callbacks):
    mailing = sample_sent(40, "A subject", "B subject", sample=50)
    with django_capture_on_commit_callbacks(execute=True):
        assert mailings_process().decided == 0
        assert mailings_process(now=mailing.ab_decide_at).decided == 1
    mailing.refresh_from_db()
    assert (mailing.ab_winner.label, mailing.status) == ("A", MailingStatus.SENT)
    assert len(mail.outbox) == 40


def test_a_cancelled_test_is_never_decided():
    mailing = sample_sent(40, "A subject", "B subject", sample=50)
    mailing_cancel(mailing)
    assert ab_decide(mailing.pk, force=True) is None
    assert Delivery.objects.filter(status=DeliveryStatus.HELD).exists()
