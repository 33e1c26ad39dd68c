"""The A/B subject test: a sample of the audience gets the subjects first, evenly split; after
the wait the subject with the most human clicks (or human opens) wins and the rest of the
audience gets it.

The snapshot puts each recipient in the sample with probability `ab_sample_percent` (a random
sample of about that share, drawn row by row while the audience streams in: no list of the
audience is ever held) and hands the sampled ones the variants in turn, so the variants' groups
differ by one at most; everyone else is HELD. At `ab_decide_at` (a timed task, or
`rallypoint mailings_process`) the winner is the variant with the highest rate of recipients
who clicked (or opened, as people: machine opens don't count) among those it was sent to;
a tie goes to the earlier variant ("A" is the mailing's own subject). The held deliveries are
then released with the winner as their variant, in one UPDATE, and sending goes on.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from rallypoint.core.audit import log_action

from ..models import AbMetric, Delivery, DeliveryStatus, Mailing, MailingStatus, MailingVariant


@dataclass
class AbSample:
    """Who is in the sample, decided one recipient at a time during the snapshot."""

    variant_ids: list[int] = field(default_factory=list)
    share: float = 0.0
    rng: random.Random = field(default_factory=random.SystemRandom)
    sampled: int = 0
    held: int = 0

    @property
    def testing(self) -> bool:
        return bool(self.variant_ids) and self.share > 0

    @classmethod
    def for_mailing(cls, mailing: Mailing) -> "AbSample":
        variants = list(mailing.variants.order_by("label").values_list("pk", flat=True))
        if len(variants) < 2 or not mailing.ab_sample_percent:
            return cls()
        return cls(variant_ids=variants, share=min(mailing.ab_sample_percent, 100) / 100)

    def assign(self) -> tuple[str, int | None]:
        """(status, variant id) of the next recipient."""
        if not self.testing:
            return DeliveryStatus.PENDING, None
        if self.share >= 1 or self.rng.random() < self.share:
            variant = self.variant_ids[self.sampled % len(self.variant_ids)]
            self.sampled += 1
            return DeliveryStatus.PENDING, variant
        self.held += 1
        return DeliveryStatus.HELD, None


@dataclass(frozen=True)
class VariantResult:
    variant: MailingVariant
    sent: int  # recipients it was sent to in the sample
    opened: int  # of them, opened as a person
    clicked: int  # of them, clicked as a person

    def rate(self, metric: str) -> float:
        hits = self.clicked if metric == AbMetric.CLICKS else self.opened
        return hits / self.sent if self.sent else 0.0


def ab_results(mailing: Mailing) -> list[VariantResult]:
    """Each variant's sample: sent, human opens, human clicks (one query). After the decision
    the winner's row counts its sample only: the released deliveries are not part of the test."""
    variants = list(mailing.variants.order_by("label"))
    released = Q(pk__in=[])
    if mailing.ab_winner_id is not None and mailing.ab_decide_at is not None:
        # Released deliveries were not sent before the decision.
        released = Q(sent_at__gte=mailing.ab_decide_at, variant_id=mailing.ab_winner_id)
    sent = Q(status=DeliveryStatus.SENT)
    rows = (
        Delivery.objects.filter(mailing=mailing, variant__isnull=False)
        .exclude(released)
        .values("variant_id")
        .annotate(
            sent=Count("pk", filter=sent),
            opened=Count("pk", filter=sent & Q(human_opened_at__isnull=False)),
            clicked=Count("pk", filter=sent & Q(clicked_at__isnull=False)),
        )
    )
    counts: dict[int, tuple[int, int, int]] = {
        row["variant_id"]: (row["sent"], row["opened"], row["clicked"]) for row in rows
    }
    results = []
    for variant in variants:
        sent_n, opened_n, clicked_n = counts.get(variant.pk, (0, 0, 0))
        results.append(
            VariantResult(variant=variant, sent=sent_n, opened=opened_n, clicked=clicked_n)
        )
    return results


def ab_winner_pick(mailing: Mailing) -> MailingVariant | None:
    """The variant with the best rate on the mailing's metric (ties: the earlier label)."""
    results = ab_results(mailing)
    if not results:
        return None
    best = max(results, key=lambda r: (r.rate(mailing.ab_metric), -results.index(r)))
    return best.variant


@dataclass(frozen=True)
class AbDecision:
    winner: MailingVariant
    released: int  # held deliveries that now get the winner's subject


def ab_decide(
    mailing_id: int, *, now: datetime | None = None, force: bool = False
) -> AbDecision | None:
    """Pick the winner of a due A/B test and release the rest of the audience with its subject
    (the timed task and `mailings_process`; safe to run twice: once a winner is stored, nothing
    happens). `force`: decide now, before `ab_decide_at` (an organizer's "send the winner
    now"). None when there is nothing to decide."""
    from .delivery import _send_tasks_queue

    now = now or timezone.now()
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().filter(pk=mailing_id).first()
        if (
            mailing is None
            or mailing.ab_winner_id is not None
            or mailing.ab_decide_at is None
            or mailing.status not in (MailingStatus.SENDING, MailingStatus.PAUSED)
            or (mailing.ab_decide_at > now and not force)
        ):
            return None
        winner = ab_winner_pick(mailing)
        if winner is None:
            return None
        if force:
            mailing.ab_decide_at = now
        mailing.ab_winner = winner
        mailing.save(update_fields=["ab_winner", "ab_decide_at", "modified_at"])
        released = Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.HELD).update(
            status=DeliveryStatus.PENDING, variant=winner
        )
        log_action(
            "mailing.ab_decided",
            obj=mailing,
            data={"winner": winner.label, "subject": winner.subject, "released": released},
        )
        if released and mailing.status == MailingStatus.SENDING:
            _send_tasks_queue(mailing.pk)
    if not released:
        from .delivery import mailing_finish_if_done

        mailing_finish_if_done(mailing_id)
    return AbDecision(winner=winner, released=released)
