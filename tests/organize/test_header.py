"""The site header: one line on a phone, the right links for who is visiting, and an icon."""

import pytest

from rallypoint.ledger.dashboard import dashboard_token
from tests.factories import OrganizerFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def _nav(page: str) -> str:
    return page.split('<nav aria-label="Main"', 1)[1].split("</nav>", 1)[0]


def test_visitor_sees_log_in_and_join(client):
    nav = _nav(client.get("/").content.decode())
    assert "Log in" in nav and ">Join<" in nav


def test_supporter_back_through_their_dashboard_link_is_not_asked_to_join(client):
    person = PersonFactory()
    client.get(f"/me/link/{dashboard_token(person)}/")
    nav = _nav(client.get("/").content.decode())
    assert "My Rallypoint" in nav
    assert ">Join<" not in nav and "Log in" not in nav


@pytest.mark.parametrize("make, label", [(UserFactory, "Me"), (OrganizerFactory, "Organize")])
def test_logged_in_pages_are_in_one_menu(client, make, label):
    client.force_login(make())
    nav = _nav(client.get("/").content.decode())
    assert f'<details class="nav-menu">\n          <summary>{label}</summary>' in nav
    assert "Log out" in nav.split('class="nav-menu-items"', 1)[1]
    assert ">Join<" not in nav


def test_favicon(client):
    assert 'rel="icon"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "favicon" in response["Location"] and response["Location"].endswith(".svg")
