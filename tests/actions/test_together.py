"""Signatures written together (services.submissions_record): the same rows as one by one."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rallypoint.actions import services
from rallypoint.actions.models import Submission
from rallypoint.actions.services import signature_check, submission_record, submissions_record
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, Person, PostalAddress
from rallypoint.people.services import PersonData
from rallypoint.sharing.models import Recruitment
from rallypoint.sharing.referral import Referral
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


def _written(submission):
    """What was stored for one signature, without keys that differ between two runs."""
    person = submission.person
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
        "flags": (submission.created, submission.person_created),
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
    assert not [r for r in together if isinstance(r, Exception)]
    assert [_written(s) for s in together] == [_written(s) for s in alone]
    # Every thank-you email went out once, to the right person.
    assert len(mail.outbox) == 2 * mails_alone == 2 * len(NEW_SIGNERS)
    assert {m.to[0] for m in mail.outbox[mails_alone:]} == {
        s.person.email_addresses.get().address for s in together
    }
    assert Person.objects.count() == 2 + 2 * len(NEW_SIGNERS)


@pytest.mark.django_db
def test_new_signers_together_cost_the_same_statements_however_many():
    referrers = [PersonFactory(), PersonFactory()]
    action = ActionFactory()
    counts = []
    for suffix, size in (("+a", 3), ("+b", 5)):
        signatures = [
            signature_check(**_kwargs(action, referrers, s, suffix)) for s in NEW_SIGNERS[:size]
        ]
        with CaptureQueriesContext(connection) as queries:
            submissions_record(signatures)
        counts.append(len(queries) - len([q for q in queries if "django_tasks" in q["sql"]]))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_mixed_batch_answers_each_signature_as_alone(django_capture_on_commit_callbacks):
    """Known people, a repeated signature, the same new address twice and a phone number go
    one by one; the new people go together; each gets the answer it would get alone."""
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
    assert results[1].person_id == known.pk and results[3].person_id == signed.pk
    assert results[2].person_id == results[4].person_id
    assert Person.objects.filter(email_addresses__address="twice@example.org").count() == 1
    assert Submission.objects.filter(action=action).count() == 6
    assert Activity.objects.filter(kind="sign").count() == 6


@pytest.mark.django_db
def test_an_address_taken_meanwhile_sends_the_batch_one_by_one(monkeypatch):
    """A concurrent request stored one of the addresses after the batch looked: the shared
    write fails whole (nothing of it stays) and every signature is written alone."""
    action = ActionFactory()
    monkeypatch.setattr(services, "_fresh_positions", lambda signatures: list(range(3)))
    taken = EmailAddressFactory(address="taken@example.org").person
    rows = [
        PersonData(email="a@example.org", given_name="A"),
        PersonData(email="taken@example.org", given_name="T"),
        PersonData(email="b@example.org", given_name="B"),
    ]
    results = submissions_record([signature_check(action=action, person_data=d) for d in rows])
    assert [r.created for r in results] == [True, True, True]
    assert results[1].person_id == taken.pk and not results[1].person_created
    assert Person.objects.count() == 3
    assert EmailAddress.objects.filter(address="a@example.org").count() == 1
    assert Activity.objects.filter(kind="sign").count() == 3


@pytest.mark.django_db
def test_a_failing_signature_rolls_the_batch_back_and_each_is_written_alone(monkeypatch):
    """One signature fails: nothing of the shared transaction stays, every signature is then
    written alone, and only the failing one's request sees the error."""
    action = ActionFactory()
    EmailAddressFactory(address="known@example.org")
    real = services._signature_write
    calls = []

    def failing(signature, **kwargs):
        calls.append((signature.person_data.email, kwargs.get("savepoint", True)))
        if signature.person_data.email == "bad@example.org":
            raise services.DatabaseError("disk full")
        return real(signature, **kwargs)

    monkeypatch.setattr(services, "_signature_write", failing)
    rows = [
        PersonData(email="new@example.org"),
        PersonData(email="known@example.org"),
        PersonData(email="bad@example.org", phone="+13035550123"),
    ]
    results = submissions_record([signature_check(action=action, person_data=d) for d in rows])
    assert results[0].created and results[1].created
    assert isinstance(results[2], services.DatabaseError)
    # In the batch (no savepoints), then alone.
    assert calls == [
        ("known@example.org", False),
        ("bad@example.org", False),
        ("new@example.org", True),
        ("known@example.org", True),
        ("bad@example.org", True),
    ]
    assert Submission.objects.filter(action=action).count() == 2
    assert Person.objects.filter(email_addresses__address="new@example.org").count() == 1
    assert Activity.objects.filter(kind="sign").count() == 2


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
    assert [r.answers for r in results] == [
        {str(question.pk): "Buses"},
        {str(question.pk): "Trains"},
    ]


@pytest.mark.django_db(transaction=True)
def test_petitions_posted_at_once_are_written_together(client, monkeypatch, settings):
    """Many visitors sign in the same moment: a few threads write for all of them, and every
    visitor gets their thank-you page and exactly one signature."""
    settings.WRITE_CONCURRENCY = 1
    settings.ACTION_RATE_LIMIT = "0/1"
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    sizes = []
    real = services.submissions_record
    gate = threading.Event()

    def spy(signatures):
        sizes.append(len(signatures))
        gate.wait(timeout=5)  # hold the first writer so that the others queue behind it
        return real(signatures)

    monkeypatch.setattr(services, "_together", None)
    monkeypatch.setattr(services, "submissions_record", spy)
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

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    while services._together is None or sum(sizes) + len(services._together._queue) < 12:
        threading.Event().wait(0.01)
    gate.set()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == dict.fromkeys(range(12), 302)
    assert sum(sizes) == 12 and max(sizes) > 1
    assert Submission.objects.filter(action=action).count() == 12
    assert Person.objects.count() == 12
    assert Activity.objects.filter(kind="sign").count() == 12
