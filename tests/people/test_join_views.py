import pytest
from django.urls import reverse

from rallypoint.core.models import OutboundEmail
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import EmailAddress, Person, PhoneNumber
from tests.factories import EmailAddressFactory, PersonFactory

pytestmark = pytest.mark.django_db
URL = reverse("people:join")


def _form(**overrides):
    data = {
        "given_name": "Maya",
        "family_name": "Chen",
        "email": "maya@example.org",
        "postal_code": "94110",
        "country": "US",
        "phone": "",
        "website": "",
    }
    data.update(overrides)
    return data


def test_join_page_renders_form(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b'name="sms_consent"' in response.content


def test_home_links_to_join(client):
    assert f'href="{URL}"'.encode() in client.get("/").content


def test_join_creates_person_and_redirects_to_confirmation(client, mailoutbox):
    response = client.post(URL, _form())
    assert response.status_code == 302
    assert response["Location"] == reverse("people:join_done")
    person = Person.objects.get()
    assert (person.given_name, person.family_name, person.source) == ("Maya", "Chen", "join page")
    address = person.postal_addresses.get()
    location = (address.postal_code, address.locality, address.region)
    assert location == ("94110", "San Francisco", "CA")
    assert list(Activity.objects.values_list("kind", flat=True)) == ["join"]
    done = client.get(response["Location"])
    assert b"You're in, Maya!" in done.content
    assert person.share_code.encode() in done.content


def test_join_queues_confirmation_email(client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _form())
    message = OutboundEmail.objects.get()
    assert message.to == "maya@example.org"
    assert message.subject == "Welcome to Rallypoint, Maya!"
    assert [m.to for m in mailoutbox] == [["maya@example.org"]]


def test_join_double_submit_makes_one_person(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, _form())
        client.post(URL, _form(email="MAYA@example.org "))
    assert Person.objects.count() == 1
    assert Activity.objects.filter(kind="join").count() == 1
    assert OutboundEmail.objects.count() == 1


def test_join_sms_consent_only_when_ticked(client):
    client.post(URL, _form(phone="(415) 555-0132"))
    phone = PhoneNumber.objects.get()
    assert (phone.number, phone.sms_consent) == ("+14155550132", False)
    client.post(URL, _form(phone="415 555 0132", sms_consent="on"))
    phone.refresh_from_db()
    assert phone.sms_consent is True


def test_join_consent_without_phone_is_an_error(client):
    response = client.post(URL, _form(sms_consent="on"))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "Add your mobile number to get text messages."
    ]
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "maya@@example"}, "email", "That email address doesn't look right"),
        ({"email": ""}, "email", "This field is required."),
        ({"phone": "555-0000"}, "phone", "That phone number isn't a real, dialable number."),
        ({"phone": "call me maybe"}, "phone", "That doesn't look like a phone number."),
        ({"postal_code": "00000"}, "postal_code", "We couldn't find that ZIP code."),
        ({"postal_code": ""}, "postal_code", "Enter your ZIP code"),
        ({"given_name": "x" * 10_000}, "given_name", "Ensure this value has at most 100"),
        ({"email": "a" * 10_000 + "@example.org"}, "email", "Ensure this value has at most 254"),
        ({"postal_code": "9" * 10_000}, "postal_code", "Ensure this value has at most 20"),
        ({"country": "XX"}, "country", "Select a valid choice."),
    ],
)
def test_join_bad_input_shows_message_and_keeps_good_values(client, overrides, field, message):
    response = client.post(URL, _form(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field][0].startswith(message)
    assert Person.objects.count() == 0
    kept = [name for name in ("given_name", "family_name", "email") if name not in overrides]
    for name in kept:
        assert f'value="{_form()[name]}"'.encode() in response.content


def test_join_outside_us_accepts_foreign_postal_code_and_phone(client):
    response = client.post(
        URL, _form(country="GB", postal_code="sw1a 1aa", phone="020 7946 0018", sms_consent="on")
    )
    assert response.status_code == 302
    person = Person.objects.get()
    address = person.postal_addresses.get()
    assert (address.country, address.postal_code, address.latitude) == ("GB", "SW1A 1AA", None)
    assert person.phone_numbers.get().number == "+442079460018"


def test_join_escapes_html_in_names(client):
    client.post(URL, _form(given_name="<script>alert(1)</script>"))
    person = Person.objects.get()
    assert person.given_name == "<script>alert(1)</script>"
    page = client.get(reverse("people:join_done"))
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content


def test_join_honeypot_stores_nothing_and_looks_like_success(client):
    response = client.post(URL, _form(website="http://spam.example"))
    assert response.status_code == 302
    assert Person.objects.count() == 0
    assert EmailAddress.objects.count() == 0


def test_join_rate_limited_per_ip_with_clear_message(client, settings):
    settings.JOIN_RATE_LIMIT = (2, 600)
    client.post(URL, _form(email="one@example.org"))
    client.post(URL, _form(email="two@example.org"))
    response = client.post(URL, _form(email="three@example.org"))
    assert response.status_code == 429
    error = response.context["form"].non_field_errors()[0]
    assert error.startswith("Lots of people have joined from your network in the last few minutes.")
    assert "Please try again in " in error
    assert b'value="three@example.org"' in response.content
    assert sorted(EmailAddress.objects.values_list("address", flat=True)) == [
        "one@example.org",
        "two@example.org",
    ]


def test_join_through_share_link_credits_recruiter(client):
    recruiter = PersonFactory()
    client.get(f"{URL}?ref={recruiter.share_code}&ch=sms")
    client.post(URL, _form())
    person = Person.objects.exclude(pk=recruiter.pk).get()
    edge = Recruitment.objects.get()
    assert (edge.recruiter_id, edge.recruit_id, edge.channel) == (recruiter.pk, person.pk, "sms")
    assert Activity.objects.get(kind="join").referrer_id == recruiter.pk


def test_join_done_without_join_is_generic(client):
    response = client.get(reverse("people:join_done"))
    assert response.status_code == 200
    assert b"You're in!" in response.content


def test_join_empty_post_shows_required_fields(client):
    response = client.post(URL, {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["given_name"] == ["This field is required."]
    assert errors["email"] == ["This field is required."]
    assert Person.objects.count() == 0


def test_join_page_through_share_link_names_the_inviter(client):
    recruiter = PersonFactory(given_name="Ana", family_name="Ruiz")
    response = client.get(f"{URL}?ref={recruiter.share_code}")
    assert b"Ana R. invited you to join." in response.content


def test_join_page_hides_inviter_who_stays_off_public_pages(client):
    recruiter = PersonFactory(given_name="Ana", public_display=False)
    response = client.get(f"{URL}?ref={recruiter.share_code}")
    assert b"invited you to join" not in response.content


def test_join_with_someone_elses_address_greets_with_what_was_typed(client):
    vera = PersonFactory(given_name="Vera", family_name="Vance")
    EmailAddressFactory(person=vera, address="vera@example.org")
    response = client.post(URL, _form(given_name="Mallory", email="vera@example.org"), follow=True)
    html = response.content.decode()
    assert "You're in, Mallory!" in html
    assert "Vera" not in html
    vera.refresh_from_db()
    assert vera.given_name == "Vera"


def test_join_thank_you_page_has_share_buttons_and_a_copy_button(client):
    client.post(URL, _form())
    page = client.get(reverse("people:join_done")).content.decode()
    person = Person.objects.get()
    assert f"ref={person.share_code}" in page
    assert "data-copy=" in page
    assert "share-button" in page


def test_join_thank_you_page_never_hands_out_an_existing_persons_share_code(client):
    owner = PersonFactory()
    EmailAddressFactory(person=owner, address="maya@example.org")
    client.post(URL, _form())
    page = client.get(reverse("people:join_done")).content.decode()
    assert owner.share_code not in page
    assert "share-button" in page
