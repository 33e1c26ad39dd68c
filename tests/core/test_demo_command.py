import io

import pytest
from django.core.management import call_command

from rallypoint.people.models import Person

pytestmark = pytest.mark.django_db


def test_demo_command_loads_only_into_an_empty_database(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo", "--people", "40", "--if-empty", stdout=out)
    assert "Created 40 demo people" in out.getvalue()
    assert Person.objects.count() == 40
    again = io.StringIO()
    call_command("demo", "--people", "40", "--if-empty", stdout=again)
    assert again.getvalue() == "Demo data is already loaded.\n"
    assert Person.objects.count() == 40
