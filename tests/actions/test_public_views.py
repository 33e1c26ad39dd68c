import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escapejs

from rallypoint.actions import spam
from rallypoint.actions.models import ActionStatus, QuestionKind, Submission
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
from tests.actions.factories import ActionFactory, FormFactory, QuestionFactory
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "given_name": "Ana",
    "family_name": "Ruiz",
    "email": "ana@example.org",
    "postal_code": "80202",
}


def test_action_page_shows_form_target_and_count(client):
    action = ActionFactory(title="Run the 12 bus")
    response = client.get(reverse("actions:detail", args=[action.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Run the 12 bus" in html
    assert "Mayor Ana Ruiz" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="hp_website"' in html
    assert "<strong>0</strong> signatures" in html


def test_action_page_draft_is_404_for_visitors_and_visible_to_organizers(client, organizer):
    action = ActionFactory(status=ActionStatus.DRAFT)
    url = reverse("actions:detail", args=[action.slug])
    assert client.get(url).status_code == 404
    client.force_login(organizer)
    assert "Draft preview" in client.get(url).content.decode()


def test_action_post_valid_redirects_to_thanks_with_share_link(client):
    action = ActionFactory()
    response = client.post(reverse("actions:detail", args=[action.slug]), GOOD)
    assert response.status_code == 302
    person = Person.objects.get()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Thank you, Ana!" in html
    assert f"?ref={person.share_code}" in html
    assert Submission.objects.count() == 1


def test_action_post_twice_stores_once_and_thanks_the_same(client):
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    first = client.post(url, GOOD, follow=True).content.decode()
    response = client.post(url, {**GOOD, "email": " ANA@example.org "}, follow=True)
    assert "Thank you, Ana!" in first
    assert "Thank you, Ana!" in response.content.decode()
    assert Submission.objects.count() == 1
    assert Activity.objects.count() == 1


def test_action_post_with_someone_elses_address_reveals_nothing_of_theirs(client):
    """Typing a supporter's address must not tell a stranger their name or that they signed."""
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    client.post(url, {**GOOD, "given_name": "Vera", "email": "vera@example.org"})
    stranger = client.post(
        url, {**GOOD, "given_name": "Mallory", "email": "vera@example.org"}, follow=True
    )
    fresh = client.post(
        url, {**GOOD, "given_name": "Mallory", "email": "mallory@example.org"}, follow=True
    )
    html = stranger.content.decode()
    assert "Vera" not in html
    assert "already" not in html
    assert "Thank you, Mallory!" in html
    assert "Thank you, Mallory!" in fresh.content.decode()
    assert Person.objects.get(email_addresses__address="vera@example.org").given_name == "Vera"


def test_action_post_bad_input_keeps_good_values_and_explains(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:detail", args=[action.slug]),
        {**GOOD, "email": "ana@", "postal_code": "802", "phone": "12", "sms_consent": "on"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"email", "postal_code", "phone"}
    assert form.errors["postal_code"] == ["Enter a 5-digit ZIP code, like 80202."]
    assert form.errors["phone"] == ["That phone number isn't a real, dialable number."]
    html = response.content.decode()
    assert 'value="Ruiz"' in html
    assert "Please check 3 things" in html
    assert Person.objects.count() == 0


def test_action_post_unknown_zip_is_explained_and_stores_nothing(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:detail", args=[action.slug]), {**GOOD, "postal_code": "00000"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "postal_code": ["We couldn't find that ZIP code. Check it and try again."]
    }
    assert Submission.objects.count() == 0


def test_action_post_international_postal_code_is_accepted(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:detail", args=[action.slug]), {**GOOD, "postal_code": "SW1A 1AA"}
    )
    assert response.status_code == 302
    assert Submission.objects.count() == 1


def test_action_post_sms_consent_without_phone_is_explained(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:detail", args=[action.slug]), {**GOOD, "sms_consent": "on"}
    )
    assert response.context["form"].errors == {
        "phone": ["Enter your mobile number to get texts, or untick the box."]
    }


def test_action_post_with_phone_and_consent_stores_consent(client):
    action = ActionFactory()
    client.post(
        reverse("actions:detail", args=[action.slug]),
        {**GOOD, "phone": "(202) 555-0143", "sms_consent": "on"},
    )
    phone = Person.objects.get().phone_numbers.get()
    assert (phone.number, phone.sms_consent) == ("+12025550143", True)


def test_action_post_to_closed_action_stores_nothing(client):
    action = ActionFactory(status=ActionStatus.CLOSED)
    response = client.post(reverse("actions:detail", args=[action.slug]), GOOD)
    assert response.status_code == 200
    assert "This petition is closed" in response.content.decode()
    assert Person.objects.count() == 0


def test_action_post_honeypot_looks_successful_but_stores_nothing(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:detail", args=[action.slug]), {**GOOD, "hp_website": "http://spam"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("actions:thanks", args=[action.slug, "-"])
    assert client.get(response["Location"]).status_code == 200
    assert (Person.objects.count(), Submission.objects.count()) == (0, 0)


def test_action_post_rate_limit_answers_429_and_stores_nothing(client, settings):
    settings.ACTION_RATE_LIMIT = "2/3600"
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    for i in range(2):
        assert client.post(url, {**GOOD, "email": f"p{i}@example.org"}).status_code == 302
    response = client.post(url, {**GOOD, "email": "p3@example.org"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Please wait a moment" in response.content.decode()
    assert Submission.objects.count() == 2


def test_action_post_rate_limit_zero_means_unlimited(client, settings):
    settings.ACTION_RATE_LIMIT = "0/60"
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    codes = [client.post(url, {**GOOD, "email": f"p{i}@example.org"}).status_code for i in range(5)]
    assert codes == [302] * 5


def test_action_post_with_ref_records_referrer_channel_and_recruitment(client):
    recruiter = PersonFactory()
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    assert client.get(f"{url}?ref={recruiter.share_code}&ch=facebook").status_code == 200
    client.post(url, GOOD)
    submission = Submission.objects.get()
    assert (submission.referrer, submission.channel) == (recruiter, "facebook")
    act = Activity.objects.get(kind="sign")
    assert (act.referrer, act.channel) == (recruiter, "facebook")
    edge = Recruitment.objects.get()
    assert (edge.recruiter, edge.recruit.given_name, edge.channel) == (recruiter, "Ana", "facebook")


def test_action_post_form_questions_validated_and_stored(client):
    action = FormFactory()
    day = QuestionFactory(action=action, kind=QuestionKind.CHOICE, choices=["Sat", "Sun"])
    skills = QuestionFactory(
        action=action, kind=QuestionKind.CHECKBOX, choices=["Phones", "Doors"], required=True
    )
    url = reverse("actions:detail", args=[action.slug])
    bad = client.post(url, {**GOOD, day.field_name: "Mon"})
    assert bad.context["form"].errors == {
        day.field_name: ["Pick one of the choices listed."],
        skills.field_name: ["Please tick at least one."],
    }
    good = client.post(url, {**GOOD, day.field_name: "Sun", skills.field_name: ["Doors"]})
    assert good.status_code == 302
    assert Submission.objects.get().answers == {str(day.pk): "Sun", str(skills.pk): ["Doors"]}


def test_thanks_page_bad_token_shows_generic_thanks(client):
    action = ActionFactory()
    response = client.get(reverse("actions:thanks", args=[action.slug, "nonsense"]))
    assert response.status_code == 200
    assert "Your response is in." in response.content.decode()


def test_thanks_email_again_sends_one_more_then_stops(client, django_capture_on_commit_callbacks):
    action = ActionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("actions:detail", args=[action.slug]), GOOD)
        resend = response["Location"] + "email/"
        first = client.post(resend, follow=True)
        second = client.post(resend, follow=True)
    assert len(mail.outbox) == 2
    share = f"/act/{action.slug}/?ref={Person.objects.get().share_code}&ch=email"
    assert [m.to for m in mail.outbox] == [["ana@example.org"], ["ana@example.org"]]
    assert [share in m.body for m in mail.outbox] == [True, True]
    assert ["/me/link/" in m.body for m in mail.outbox] == [True, True]
    assert "Sent. Check your inbox" in first.content.decode()
    assert "We already sent your links again" in second.content.decode()


def test_embed_page_allows_framing_and_carries_token_without_csrf(client):
    action = ActionFactory()
    response = client.get(reverse("actions:embed", args=[action.slug]) + "?ref=abcd2345&ch=x")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert 'name="form_token"' in html
    assert 'name="csrfmiddlewaretoken"' not in html
    assert '<input type="hidden" name="ref" value="abcd2345">' in html
    detail = client.get(reverse("actions:detail", args=[action.slug]))
    assert detail["X-Frame-Options"] == "DENY"


def test_embed_post_with_token_records_referral_from_hidden_fields(client):
    from django.test import Client

    recruiter = PersonFactory()
    action = ActionFactory()
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        reverse("actions:embed", args=[action.slug]),
        {
            **GOOD,
            "form_token": spam.embed_token(action.pk),
            "ref": recruiter.share_code,
            "ch": "email",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"/act/{action.slug}/embed/thanks/")
    page = browser.get(response["Location"])
    assert "X-Frame-Options" not in page
    assert "Thank you, Ana!" in page.content.decode()
    submission = Submission.objects.get()
    assert (submission.source, submission.referrer, submission.channel) == (
        "embed",
        recruiter,
        "email",
    )


def test_embed_post_without_valid_token_is_refused_with_message(client):
    action = ActionFactory()
    response = client.post(
        reverse("actions:embed", args=[action.slug]),
        {**GOOD, "form_token": spam.embed_token(action.pk + 1)},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This form timed out. Please check your details and send it again."
    ]
    assert 'value="ana@example.org"' in response.content.decode()
    assert Person.objects.count() == 0


def test_embed_token_expires(settings):
    settings.ACTION_EMBED_TOKEN_MAX_AGE = -1
    assert spam.embed_token_valid(spam.embed_token(5), 5) is False


def test_first_party_post_without_csrf_is_refused(client):
    from django.test import Client

    action = ActionFactory()
    response = Client(enforce_csrf_checks=True).post(
        reverse("actions:detail", args=[action.slug]), GOOD
    )
    assert response.status_code == 403
    assert Person.objects.count() == 0


def test_embed_js_points_at_the_embed_page(client):
    action = ActionFactory()
    response = client.get(reverse("actions:embed_js", args=[action.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    body = response.content.decode()
    assert escapejs(f"http://testserver/act/{action.slug}/embed/") in body
    assert "rallypoint:height" in body


def test_unknown_action_is_404(client):
    assert client.get(reverse("actions:detail", args=["nope"])).status_code == 404
    assert client.get(reverse("actions:embed_js", args=["nope"])).status_code == 404


def test_embed_post_rate_limit_answers_429_inside_the_widget(client, settings):
    settings.ACTION_RATE_LIMIT = "1/3600"
    action = ActionFactory()
    url = reverse("actions:embed", args=[action.slug])
    token = spam.embed_token(action.pk)
    assert client.post(url, {**GOOD, "form_token": token}).status_code == 302
    response = client.post(url, {**GOOD, "email": "b@example.org", "form_token": token})
    assert response.status_code == 429
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert 'class="embed"' in html
    assert "Please wait a moment" in html
    assert Submission.objects.count() == 1
