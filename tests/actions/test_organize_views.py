import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from rallypoint.actions.models import Action, ActionStatus, QuestionKind
from tests.actions.factories import (
    ActionFactory,
    FormFactory,
    QuestionFactory,
    SubmissionFactory,
)
from tests.factories import EmailAddressFactory, PersonFactory, PostalAddressFactory

pytestmark = pytest.mark.django_db


def _signed(action, n):
    subs = []
    for i in range(n):
        person = PersonFactory(given_name=f"P{i}")
        EmailAddressFactory(person=person)
        PostalAddressFactory(person=person)
        subs.append(SubmissionFactory(action=action, person=person))
    return subs


def _list_queries(organizer_client, django_assert_num_queries, n):
    for _ in range(n):
        ActionFactory()
    url = reverse("actions:organize_list")
    organizer_client.get(url)  # warm the session/user caches
    with django_assert_num_queries(QUERIES_LIST) as ctx:
        response = organizer_client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == n
    return ctx


QUERIES_LIST = 5
QUERIES_DETAIL = 10


@pytest.mark.parametrize("n", [1, 3])
def test_organize_list_query_count_is_flat(organizer_client, django_assert_num_queries, n):
    _list_queries(organizer_client, django_assert_num_queries, n)


@pytest.mark.parametrize("n", [1, 3])
def test_organize_detail_query_count_is_flat(organizer_client, django_assert_num_queries, n):
    action = FormFactory()
    QuestionFactory(action=action)
    _signed(action, n)
    url = reverse("actions:organize_detail", args=[action.pk])
    with django_assert_num_queries(QUERIES_DETAIL):
        response = organizer_client.get(url)
    assert len(response.context["rows"]) == n


def test_organize_pages_redirect_visitors_and_forbid_supporters(supporter_client):
    action = ActionFactory()
    url = reverse("actions:organize_detail", args=[action.pk])
    assert Client().get(url).status_code == 302
    assert supporter_client.get(url).status_code == 403
    assert (
        supporter_client.get(reverse("actions:organize_export", args=[action.pk])).status_code
        == 403
    )


def test_organize_status_by_supporter_changes_nothing(supporter_client):
    action = ActionFactory()
    response = supporter_client.post(
        reverse("actions:organize_status", args=[action.pk]), {"status": "closed"}
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == ActionStatus.LIVE


def test_organize_new_by_supporter_creates_nothing(supporter_client):
    response = supporter_client.post(
        reverse("actions:organize_new"), {"kind": "petition", "title": "X", "status": "live"}
    )
    assert response.status_code == 403
    assert Action.objects.count() == 0


def test_organize_new_petition_creates_and_redirects(organizer_client):
    response = organizer_client.post(
        reverse("actions:organize_new"),
        {
            "kind": "petition",
            "status": "live",
            "title": "Fund the library",
            "targets_text": "Mayor Ruiz\nCouncil\nMayor Ruiz",
            "petition_text": "Keep it open",
            "description": "<p>Read <b>this</b><script>x</script></p>",
        },
    )
    action = Action.objects.get()
    assert response["Location"] == reverse("actions:organize_detail", args=[action.pk])
    assert action.slug == "fund-the-library"
    assert action.targets == [{"name": "Mayor Ruiz"}, {"name": "Council"}]
    assert action.description == "<p>Read <b>this</b></p>"


def test_organize_new_form_goes_to_questions(organizer_client):
    response = organizer_client.post(
        reverse("actions:organize_new"), {"kind": "form", "status": "draft", "title": "Volunteer"}
    )
    assert response["Location"] == reverse(
        "actions:organize_questions", args=[Action.objects.get().pk]
    )


def test_organize_new_bad_input_explains_and_creates_nothing(organizer_client):
    ActionFactory(slug="taken")
    response = organizer_client.post(
        reverse("actions:organize_new"),
        {"kind": "pledge", "status": "live", "title": "Vote", "slug": "taken", "goal": "-3"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"slug", "goal"}
    assert Action.objects.count() == 1


def test_organize_new_pledge_without_headline_explains(organizer_client):
    response = organizer_client.post(
        reverse("actions:organize_new"), {"kind": "pledge", "status": "live", "title": "Vote"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["pledge_headline"]
    assert Action.objects.count() == 0


def test_organize_edit_saves_and_audits(organizer_client):
    action = ActionFactory(title="Old")
    response = organizer_client.post(
        reverse("actions:organize_edit", args=[action.pk]),
        {"kind": "petition", "status": "live", "title": "New title", "slug": action.slug},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.title == "New title"


def test_organize_status_closes_action(organizer_client):
    action = ActionFactory()
    organizer_client.post(
        reverse("actions:organize_status", args=[action.pk]), {"status": "closed"}
    )
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED


def test_organize_status_unknown_value_changes_nothing(organizer_client):
    action = ActionFactory()
    organizer_client.post(reverse("actions:organize_status", args=[action.pk]), {"status": "gone"})
    action.refresh_from_db()
    assert action.status == ActionStatus.LIVE


def _formset(rows):
    data = {
        "questions-TOTAL_FORMS": str(len(rows)),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"questions-{i}-{key}"] = value
    return data


def test_organize_questions_saves_rows_and_skips_blank_ones(organizer_client):
    action = FormFactory()
    response = organizer_client.post(
        reverse("actions:organize_questions", args=[action.pk]),
        _formset(
            [
                {"label": "Which day?", "kind": "choice", "choices_text": "Sat\nSun"},
                {"label": "", "kind": "text"},
                {"label": "I agree to the code of conduct", "kind": "checkbox", "required": "on"},
            ]
        ),
    )
    assert response.status_code == 302
    assert [(q.label, q.kind, q.required, q.choices) for q in action.questions.all()] == [
        ("Which day?", "choice", False, ["Sat", "Sun"]),
        ("I agree to the code of conduct", "checkbox", True, []),
    ]


def test_organize_questions_choice_without_choices_explains(organizer_client):
    action = FormFactory()
    response = organizer_client.post(
        reverse("actions:organize_questions", args=[action.pk]),
        _formset([{"label": "Which day?", "kind": "choice", "choices_text": "Sat"}]),
    )
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors == {
        "choices_text": ["A pick-one question needs at least two choices."]
    }
    assert action.questions.count() == 0


def test_organize_export_streams_all_rows_with_answers(organizer_client):
    action = FormFactory(slug="volunteer")
    question = QuestionFactory(
        action=action, kind=QuestionKind.CHECKBOX, choices=["a", "b"], label="Skills"
    )
    referrer = PersonFactory()
    person = PersonFactory(given_name="Ana", family_name="=cmd()")
    EmailAddressFactory(person=person, address="ana@example.org")
    PostalAddressFactory(person=person, postal_code="80202")
    SubmissionFactory(
        action=action,
        person=person,
        answers={str(question.pk): ["a", "b"]},
        referrer=referrer,
        channel="x",
    )
    response = organizer_client.get(reverse("actions:organize_export", args=[action.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="volunteer-submissions.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["given_name"], row["family_name"], row["email"], row["postal_code"]) == (
        "Ana",
        "'=cmd()",
        "ana@example.org",
        "80202",
    )
    assert (row["Skills"], row["referrer_code"], row["channel"], row["counted"]) == (
        "a, b",
        referrer.share_code,
        "x",
        "yes",
    )


def test_organize_detail_shows_daily_counts_and_channels(organizer_client):
    action = ActionFactory()
    _signed(action, 2)
    response = organizer_client.get(reverse("actions:organize_detail", args=[action.pk]))
    assert response.context["series"][-1]["count"] == 2
    assert response.context["channels"] == [{"channel": "", "label": "On their own", "count": 2}]
    assert response.context["count"] == 2


def test_organize_questions_shows_every_reason_the_service_gives(organizer_client, monkeypatch):
    from django.core.exceptions import ValidationError

    from rallypoint.actions.views import organize

    def refuse(**kwargs):
        raise ValidationError(["This action is closed.", "Ask at most 20 questions."])

    monkeypatch.setattr(organize, "questions_set", refuse)
    action = FormFactory()
    response = organizer_client.post(
        reverse("actions:organize_questions", args=[action.pk]),
        _formset([{"label": "Which day?", "kind": "text"}]),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<p>This action is closed.</p>" in html
    assert "<p>Ask at most 20 questions.</p>" in html
