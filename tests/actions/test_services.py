from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.actions.models import ActionStatus, QuestionKind, Submission
from rallypoint.actions.services import (
    action_close,
    action_create,
    action_update,
    answers_clean,
    questions_set,
    submission_record,
)
from rallypoint.core.models import AuditEntry
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral
from rallypoint.people.services import PersonData
from tests.actions.factories import (
    ActionFactory,
    FormFactory,
    PledgeFactory,
    QuestionFactory,
)
from tests.factories import EmailAddressFactory

pytestmark = pytest.mark.django_db


def ana(**extra):
    return PersonData(
        email="ana@example.org", given_name="Ana", family_name="Ruiz", postal_code="80202", **extra
    )


def test_submission_record_new_person_writes_submission_act_and_email(
    django_capture_on_commit_callbacks,
):
    action = ActionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        result = submission_record(action=action, person_data=ana(), comment="  Buses!  ")
    assert result.created is True
    assert result.person_created is True
    submission = result.submission
    assert submission.comment == "Buses!"
    person = Person.objects.get()
    assert submission.person == person
    assert person.postal_addresses.get().region == "CO"
    act = Activity.objects.get()
    assert (act.person, act.kind, act.campaign, act.target) == (
        person,
        "sign",
        action.campaign,
        submission,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.org"]
    assert mail.outbox[0].subject == f"Thank you, Ana: {action.title}"
    assert f"/act/{action.slug}/?ref={person.share_code}&ch=email" in mail.outbox[0].body


def test_submission_record_duplicate_signature_returns_existing_without_new_act(
    django_capture_on_commit_callbacks,
):
    action = ActionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = submission_record(action=action, person_data=ana())
        again = submission_record(action=action, person_data=ana(phone="(202) 555-0143"))
    assert again.submission.pk == first.submission.pk
    assert again.created is False
    assert Submission.objects.count() == 1
    assert Activity.objects.count() == 1
    assert len(mail.outbox) == 1
    # A phone number given with a known address is not attached to that person's record (it
    # could be anyone's); it is kept in their history for an organizer to apply.
    person = Person.objects.get()
    assert person.phone_numbers.count() == 0
    entry = AuditEntry.objects.get(action="person.kept_aside")
    assert (entry.object_id, entry.data["kept_aside"]) == (
        str(person.pk),
        {"phone": "+12025550143"},
    )


def test_submission_record_existing_person_matched_by_email_case_insensitively():
    existing = EmailAddressFactory(address="Ana@Example.org").person
    result = submission_record(action=PledgeFactory(), person_data=ana())
    assert result.submission.person == existing == result.person
    assert result.person_created is False
    assert Activity.objects.get().kind == "pledge"


def test_submission_record_form_repeat_keeps_answers_but_counts_once(
    django_capture_on_commit_callbacks,
):
    action = FormFactory()
    question = QuestionFactory(action=action, label="Shift")
    with django_capture_on_commit_callbacks(execute=True):
        first = submission_record(action=action, person_data=ana(), answers={question.pk: "Sat"})
        second = submission_record(action=action, person_data=ana(), answers={question.pk: "Sun"})
    assert (first.submission.counted, second.submission.counted, second.created) == (
        True,
        False,
        True,
    )
    assert list(Submission.objects.order_by("id").values_list("answers", flat=True)) == [
        {str(question.pk): "Sat"},
        {str(question.pk): "Sun"},
    ]
    assert Activity.objects.filter(kind="submit").count() == 1
    assert len(mail.outbox) == 1


def test_submission_record_referral_records_referrer_channel_and_recruitment():
    action = ActionFactory()
    recruiter = submission_record(
        action=action, person_data=PersonData(email="rita@example.org", given_name="Rita")
    ).person
    submission = submission_record(
        action=action,
        person_data=ana(),
        referral=Referral(code=recruiter.share_code, channel="whatsapp"),
    ).submission
    assert (submission.referrer, submission.channel) == (recruiter, "whatsapp")
    act = Activity.objects.get(person=submission.person)
    assert (act.referrer, act.channel) == (recruiter, "whatsapp")
    edge = Recruitment.objects.get()
    assert (edge.recruiter, edge.recruit, edge.campaign, edge.channel) == (
        recruiter,
        submission.person,
        action.campaign,
        "whatsapp",
    )
    assert Activity.objects.filter(person=recruiter, kind="recruit").count() == 1


def test_submission_record_self_referral_is_ignored():
    action = ActionFactory()
    me = submission_record(action=PledgeFactory(campaign=action.campaign), person_data=ana()).person
    submission = submission_record(
        action=action, person_data=ana(), referral=Referral(code=me.share_code, channel="x")
    ).submission
    assert submission.referrer is None
    assert Recruitment.objects.count() == 0


def test_submission_record_closed_action_is_refused_and_writes_nothing():
    action = ActionFactory(status=ActionStatus.CLOSED)
    with pytest.raises(ValidationError) as exc:
        submission_record(action=action, person_data=ana())
    assert exc.value.message_dict == {"__all__": ["This petition is closed to new names."]}
    assert (Person.objects.count(), Submission.objects.count(), Activity.objects.count()) == (
        0,
        0,
        0,
    )


def test_submission_record_bad_email_and_long_comment_report_both_fields():
    with pytest.raises(ValidationError) as exc:
        submission_record(
            action=ActionFactory(),
            person_data=PersonData(email="ana@", given_name="Ana"),
            comment="x" * 2001,
        )
    assert set(exc.value.message_dict) == {"email", "comment"}
    assert Person.objects.count() == 0


def test_submission_record_past_time_is_kept_on_submission_and_act():
    at = timezone.now() - timedelta(days=12)
    submission = submission_record(action=ActionFactory(), person_data=ana(), at=at).submission
    assert Submission.objects.get().created_at == at
    assert Activity.objects.get().created_at == at
    assert submission.created_at == at


def test_submission_record_without_email_skips_thank_you(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission_record(
            action=ActionFactory(), person_data=PersonData(phone="202-555-0143", given_name="Bo")
        )
    assert mail.outbox == []
    assert Submission.objects.count() == 1


def test_answers_clean_checks_each_kind():
    action = FormFactory()
    text = QuestionFactory(action=action, kind=QuestionKind.TEXT, required=True)
    choice = QuestionFactory(action=action, kind=QuestionKind.CHOICE, choices=["Sat", "Sun"])
    multi = QuestionFactory(action=action, kind=QuestionKind.CHECKBOX, choices=["a", "b", "c"])
    agree = QuestionFactory(action=action, kind=QuestionKind.CHECKBOX, required=True)
    questions = [text, choice, multi, agree]
    cleaned = answers_clean(
        questions,
        {f"q_{text.pk}": " hi ", str(choice.pk): "Sun", multi.pk: ["c", "a"], agree.pk: "on"},
    )
    assert cleaned == {
        str(text.pk): "hi",
        str(choice.pk): "Sun",
        str(multi.pk): ["a", "c"],
        str(agree.pk): True,
    }
    with pytest.raises(ValidationError) as exc:
        answers_clean(questions, {choice.pk: "Mon", multi.pk: ["z"]})
    assert exc.value.message_dict == {
        text.field_name: ["Please answer this question."],
        choice.field_name: ["Pick one of the choices listed."],
        multi.field_name: ["Pick from the choices listed."],
        agree.field_name: ["Please tick this box to continue."],
    }


def test_submission_record_bad_answers_write_nothing():
    action = FormFactory()
    QuestionFactory(action=action, required=True)
    with pytest.raises(ValidationError):
        submission_record(action=action, person_data=ana(), answers={})
    assert (Person.objects.count(), Submission.objects.count()) == (0, 0)


def test_action_create_sanitises_description_and_makes_unique_slug(organizer):
    first = action_create(actor=organizer, title="Save the Library!", description="<p>Hi</p>")
    second = action_create(
        actor=organizer,
        title="Save the Library!",
        description='<p onclick="x()">Hi<script>alert(1)</script> <a href="https://a.org">a</a></p>',
    )
    assert (first.slug, second.slug) == ("save-the-library", "save-the-library-2")
    assert second.description == ('<p>Hi <a href="https://a.org" rel="noopener nofollow">a</a></p>')
    assert second.status == ActionStatus.DRAFT
    assert AuditEntry.objects.filter(action="action.created").count() == 2


def test_action_create_pledge_without_headline_is_refused(organizer):
    with pytest.raises(ValidationError) as exc:
        action_create(actor=organizer, title="Vote", kind="pledge")
    assert list(exc.value.message_dict) == ["pledge_headline"]


def test_action_update_reserved_slug_is_refused(organizer):
    action = ActionFactory()
    with pytest.raises(ValidationError) as exc:
        action_update(action=action, actor=organizer, slug="organize")
    assert list(exc.value.message_dict) == ["slug"]


def test_action_close_sets_status_time_and_audit(organizer):
    action = ActionFactory()
    action_close(action=action, actor=organizer)
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED
    assert action.closed_at is not None
    entry = AuditEntry.objects.get(action="action.updated")
    assert entry.data["after"]["status"] == "closed"
    assert entry.data["before"] == {"status": "live"}


def test_questions_set_updates_creates_and_deletes(organizer):
    action = FormFactory()
    keep = QuestionFactory(action=action, label="Old label")
    drop = QuestionFactory(action=action)
    saved = questions_set(
        action=action,
        actor=organizer,
        questions=[
            {"label": "Which day?", "kind": "choice", "choices": ["Sat", "Sun", "Sat"]},
            {"id": keep.pk, "label": "New label", "kind": "text", "required": True},
        ],
    )
    assert [(q.label, q.position) for q in action.questions.all()] == [
        ("Which day?", 0),
        ("New label", 1),
    ]
    assert saved[1].pk == keep.pk
    assert saved[0].choices == ["Sat", "Sun"]
    assert not action.questions.filter(pk=drop.pk).exists()


def test_questions_set_choice_without_choices_is_refused_and_changes_nothing(organizer):
    action = FormFactory()
    QuestionFactory(action=action, label="Keep me")
    with pytest.raises(ValidationError):
        questions_set(
            action=action, actor=organizer, questions=[{"label": "Day", "kind": "choice"}]
        )
    assert list(action.questions.values_list("label", flat=True)) == ["Keep me"]
