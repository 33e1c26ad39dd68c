"""Signatures written together (services.submissions_record): the same rows as one by one,
through the same write; a failure in one reaches only its own request."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rallypoint.actions.models import Submission
from rallypoint.actions.services import (
    Signature,
    SubmissionResult,
    signature_check,
    submission_record,
    submissions_record,
)
from rallypoint.core.concurrency import write_group, write_slots
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import EmailAddress, Person, PostalAddress
from rallypoint.people.referral import Referral
from rallypoint.people.services import PersonData
from tests.actions.factories import ActionFactory, FormFactory, QuestionFactory
from tests.factories import EmailAddressFactory, PersonFactory

AT = timezone.now() - timedelta(minutes=5)

# (given name, email, postal code, referral: index of a referrer or None, channel, comment)
NEW_SIGNERS = [
    ("Ana", "Ana@Example.org", "80202", 0, "facebook", "For my street."),
    ("Bo", "bo@example.org", "10001", 1, "direct", ""),
    ("Cy", "cy@example.org", "", None, "", ""),
    ("Di", "di@example.org", "94110", 0, "x", ""),
    ("Ed", "ed@example.org", "60601", None, "email", ""),
    ("Fa", "fa@example.org", "", "no-such-code", "sms", ""),
]


def _kwargs(action, referrers, signer, suffix=""):
    name, email, postal_code, ref, channel, comment = signer
    referral = None
    if isinstance(ref, str):  # a share code nobody has
        referral = Referral(code=ref, channel=channel)
    elif ref is not None:
        referral = Referral(code=referrers[ref].share_code, channel=channel)
    elif channel:
        referral = Referral(code="", channel=channel)
    local, domain = email.split("@")
    return {
        "action": action,
        "person_data": PersonData(
            email=f"{local}{suffix}@{domain}",
            given_name=name,
            family_name="Ruiz",
            postal_code=postal_code,
            source=f"petition: {action.title}",
        ),
        "comment": comment,
        "referral": referral,
        "at": AT,
    }


def _written(result):
    """What was stored for one signature, without keys that differ between two runs."""
    submission = result.submission
    person = submission.person
    assert result.person == person
    email = EmailAddress.objects.get(person=person)
    addresses = list(
        PostalAddress.objects.filter(person=person).values(
            "postal_code", "locality", "region", "latitude", "longitude", "primary", "accuracy"
        )
    )
    acts = list(
        Activity.objects.filter(person=person)
        .order_by("kind")
        .values("kind", "points", "referrer_id", "channel", "campaign_id", "created_at")
    )
    credits = list(
        Activity.objects.filter(kind="recruit", target_id=str(person.pk)).values(
            "person_id", "points", "channel", "campaign_id", "details"
        )
    )
    for credit in credits:
        credit["details"] = {"recruit": "the recruit" if credit["details"] else None}
    edges = list(
        Recruitment.objects.filter(recruit=person).values(
            "recruiter_id", "channel", "campaign_id", "created_at"
        )
    )
    return {
        "person": (person.given_name, person.family_name, person.source, bool(person.share_code)),
        "email": (email.address.split("+")[0], email.primary, email.status),
        "addresses": addresses,
        "submission": (
            submission.counted,
            submission.referrer_id,
            submission.channel,
            submission.source,
            submission.comment,
            submission.answers,
            submission.created_at,
        ),
        "flags": (result.created, result.person_created),
        "acts": acts,
        "credits": credits,
        "edges": edges,
    }


@pytest.mark.django_db
def test_new_signers_together_store_what_one_by_one_stores(django_capture_on_commit_callbacks):
    referrers = [PersonFactory(), PersonFactory()]
    action = ActionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        alone = [submission_record(**_kwargs(action, referrers, s, "+1")) for s in NEW_SIGNERS]
    mails_alone = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        together = submissions_record(
            [signature_check(**_kwargs(action, referrers, s, "+2")) for s in NEW_SIGNERS]
        )
    assert all(isinstance(r, SubmissionResult) for r in together)
    assert [_written(r) for r in together] == [_written(r) for r in alone]
    # Every thank-you email went out once, to the right person.
    assert len(mail.outbox) == 2 * mails_alone == 2 * len(NEW_SIGNERS)
    assert {m.to[0] for m in mail.outbox[mails_alone:]} == {
        r.person.email_addresses.get().address for r in together
    }
    assert Person.objects.count() == 2 + 2 * len(NEW_SIGNERS)


def _inserts(queries, table: str) -> int:
    return sum(
        1 for q in queries if q["sql"].startswith("INSERT") and f' INTO "{table}" ' in q["sql"]
    )


@pytest.mark.django_db
def test_signers_together_write_each_tools_rows_in_one_insert_however_many():
    """The submissions, the acts with the sharers' credits and the recruitment edges of a
    group are one INSERT each, for three signers as for five."""
    referrers = [PersonFactory(), PersonFactory()]
    action = ActionFactory()
    for suffix, size in (("+a", 3), ("+b", 5)):
        signatures = [
            signature_check(**_kwargs(action, referrers, s, suffix)) for s in NEW_SIGNERS[:size]
        ]
        with CaptureQueriesContext(connection) as queries:
            results = submissions_record(signatures)
        assert all(r.created for r in results)
        assert [
            _inserts(queries, table)
            for table in ("actions_submission", "ledger_activity", "sharing_recruitment")
        ] == [1, 1, 1]


@pytest.mark.django_db
def test_a_mixed_batch_answers_each_signature_as_alone(django_capture_on_commit_callbacks):
    """Known people, a repeated signature, the same new address twice and a phone number:
    each gets the answer it would get alone."""
    action = ActionFactory()
    known = EmailAddressFactory(address="known@example.org").person
    signed = EmailAddressFactory(address="signed@example.org").person
    submission_record(action=action, person_data=PersonData(email="signed@example.org"))
    rows = [
        PersonData(email="new1@example.org", given_name="New"),
        PersonData(email="KNOWN@example.org", given_name="Known"),
        PersonData(email="twice@example.org", given_name="First"),
        PersonData(email="signed@example.org"),
        PersonData(email="twice@example.org", given_name="Second"),
        PersonData(email="phone@example.org", phone="+13035550123", given_name="Phone"),
        PersonData(email="new2@example.org", given_name="New2"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = submissions_record(
            [signature_check(action=action, person_data=data) for data in rows]
        )
    assert [r.created for r in results] == [True, True, True, False, False, True, True]
    assert [r.person_created for r in results] == [True, False, True, False, False, True, True]
    assert results[1].person == known and results[3].person == signed
    assert results[2].submission == results[4].submission
    assert Person.objects.filter(email_addresses__address="twice@example.org").count() == 1
    assert Submission.objects.filter(action=action).count() == 6
    assert Activity.objects.filter(kind="sign").count() == 6


@pytest.mark.django_db
def test_any_failing_signature_rolls_the_batch_back_and_each_is_written_alone():
    """One signature fails with an error that is neither a validation nor a database error:
    nothing of the shared transaction stays, every signature is then written alone, and only
    the failing one's request sees the error."""
    action = ActionFactory()
    EmailAddressFactory(address="known@example.org")
    good = [
        signature_check(action=action, person_data=PersonData(email="new@example.org")),
        signature_check(action=action, person_data=PersonData(email="known@example.org")),
    ]
    # Answers no database can store (they never pass signature_check): the write raises.
    bad = Signature(
        action=action,
        person_data=PersonData(email="bad@example.org").validated(),
        answers={"1": object()},
        comment="",
        referral=None,
        source="page",
        at=timezone.now(),
    )
    results = submissions_record([good[0], bad, good[1]])
    assert [type(r) for r in results] == [SubmissionResult, TypeError, SubmissionResult]
    assert results[0].created and results[2].created
    assert Submission.objects.filter(action=action).count() == 2
    assert Activity.objects.filter(kind="sign").count() == 2
    assert Person.objects.filter(email_addresses__address="new@example.org").count() == 1
    assert not Person.objects.filter(email_addresses__address="bad@example.org").exists()


@pytest.mark.django_db
def test_sign_up_form_answers_are_kept_together():
    question = QuestionFactory(action=FormFactory(), label="Why?")
    action = question.action
    rows = [("x@example.org", "Buses"), ("y@example.org", "Trains")]
    results = submissions_record(
        [
            signature_check(
                action=action,
                person_data=PersonData(email=email, given_name="Q"),
                answers={question.field_name: why},
            )
            for email, why in rows
        ]
    )
    assert [r.submission.answers for r in results] == [
        {str(question.pk): "Buses"},
        {str(question.pk): "Trains"},
    ]


@pytest.mark.django_db(transaction=True)
def test_petitions_posted_at_once_are_written_together(settings):
    """Many visitors sign in the same moment while every write slot is taken: they queue
    for one group write, and every visitor gets their thank-you page and one signature."""
    settings.WRITE_CONCURRENCY = 1
    settings.WRITE_WAIT_SECONDS = 30
    settings.ACTION_RATE_LIMIT = "0/1"
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    answers = {}

    def sign(n):
        try:
            response = Client().post(
                url,
                {
                    "given_name": f"Signer{n}",
                    "family_name": "Ruiz",
                    "email": f"signer{n}@example.org",
                    "postal_code": "80202",
                },
            )
            answers[n] = response.status_code
        finally:
            connections.close_all()

    slots = write_slots()
    slots.acquire()
    threads = [threading.Thread(target=sign, args=(n,)) for n in range(12)]
    try:
        for thread in threads:
            thread.start()
        deadline = timezone.now() + timedelta(seconds=20)
        while timezone.now() < deadline:
            group = write_group(submissions_record)
            if group is not None and group.waiting == 12:
                break
            threading.Event().wait(0.01)
        group = write_group(submissions_record)
        assert group is not None and group.waiting == 12  # all queued for one write
    finally:
        slots.release()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == dict.fromkeys(range(12), 302)
    assert write_group(submissions_record).waiting == 0
    assert Submission.objects.filter(action=action).count() == 12
    assert Person.objects.count() == 12
    assert Activity.objects.filter(kind="sign").count() == 12
