import pytest
from django.core.management import CommandError, call_command

from rallypoint.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_createorganizer_creates_an_organizer_linked_to_a_person():
    call_command("createorganizer", email="Lee@Example.org", password="long enough 123")
    user = User.objects.get()
    assert (user.email, user.role) == ("Lee@example.org", Role.ORGANIZER)
    assert user.check_password("long enough 123")
    assert user.person is not None


def test_createorganizer_admin_promotes_an_existing_account():
    call_command("createorganizer", email="lee@example.org", password="long enough 123")
    call_command("createorganizer", email="lee@example.org", password="other one 456", admin=True)
    user = User.objects.get()
    assert user.role == Role.ADMIN
    assert user.check_password("other one 456")


def test_createorganizer_refuses_a_bad_address():
    with pytest.raises(CommandError):
        call_command("createorganizer", email="not an address", password="long enough 123")
    assert User.objects.count() == 0
