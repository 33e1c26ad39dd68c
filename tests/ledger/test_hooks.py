import pytest

from rallypoint.ledger.hooks import campaigns_by_id
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_campaigns_by_id_loads_the_mission_campaigns_by_name():
    zeta, alpha = CampaignFactory(name="Zeta"), CampaignFactory(name="Alpha")
    assert list(campaigns_by_id()) == [alpha.pk, zeta.pk]
    assert campaigns_by_id([zeta.pk, 999_999]) == {zeta.pk: zeta}


def test_campaigns_by_id_without_ids_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert campaigns_by_id([]) == {}
