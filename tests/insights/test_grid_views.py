"""The overview, channels and cascades pages: who may open them, what they show, bad input,
CSV exports, the organizer menu and the person page's tree."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.insights.services.grid import spread_summary, summary_json
from rallypoint.ledger.models import Activity
from rallypoint.mission.services import campaign_share_texts_set
from tests.factories import PersonFactory
from tests.insights.grid_world import acts, build_world, day, recruits
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = pytest.mark.django_db

PAGES = ["insights:overview", "insights:channels", "insights:cascades"]


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_for_organizers_only(supporter_client, name, world):
    url = reverse(name)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert supporter_client.get(url).status_code == 403
    assert supporter_client.post(url).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_pages_draw_their_charts_with_tables_and_csv_links(organizer_client, name, world):
    response = organizer_client.get(reverse(name), {"campaign": "grid"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg viewBox=") >= 2
    assert 'role="img"' in page
    assert "The numbers as a table" in page
    assert "Download the numbers (CSV)" in page
    for chart in response.context["data"].charts.values():
        assert f'data-chart="{chart.id}"' in page
        assert f"csv={chart.id}" in page


def test_overview_shows_the_numbers_and_goal_pace(organizer_client, world):
    campaign, _ = world
    deadline = timezone.now() + timedelta(days=10)
    GoalFactory(campaign=campaign, kind="sign", target=1000, deadline=deadline)
    page = organizer_client.get(reverse("insights:overview"), {"campaign": "grid"})
    text = page.content.decode()
    summary = page.context["summary"]
    assert (summary.participants, summary.recruits) == (6, 4)
    assert "0.67" in text  # K = 4 / 6
    (goal,) = page.context["data"].goals
    assert goal.burn_up.current == 6
    assert goal.burn_up.verdict.startswith("behind by ")
    assert goal.burn_up.verdict in text.replace("Behind", "behind")
    assert "What needs attention" in text
    assert "is behind by" in text


def test_channels_page_lists_channels_and_share_texts(organizer_client, organizer, world):
    campaign, people = world
    campaign_share_texts_set(actor=organizer, campaign=campaign, texts={"x": "Join us on X!"})
    recruits(people["E"], PersonFactory(), campaign, timezone.now(), "x")
    page = organizer_client.get(reverse("insights:channels"), {"campaign": "grid"})
    text = page.content.decode()
    assert page.status_code == 200
    by_channel = page.context["summary"].by_channel
    assert list(by_channel) == ["x", "email"]
    assert "not recorded" not in text
    uses = [u for u in page.context["data"].share_texts if u.channel == "x"]
    assert [(u.text, u.custom, u.recruits) for u in uses] == [
        ("I just took action: {title}. Join me!", False, 3),
        ("Join us on X!", True, 1),
    ]
    assert "Join us on X!" in text


def test_cascades_page_draws_the_largest_tree_with_links_to_people(organizer_client, world):
    campaign, people = world
    page = organizer_client.get(reverse("insights:cascades"), {"campaign": "grid"})
    text = page.content.decode()
    (tree,) = page.context["data"].trees
    assert tree.size == 5
    assert [n.name for n in tree.nodes] == ["A Test", "B Test", "C Test", "D Test", "E Test"]
    for person in people.values():
        if person.given_name != "F":
            assert reverse("people:detail", args=[person.pk]) in text
    assert "data-tree" in text
    assert "Whole tree" in text


def test_page_numbers_are_the_spread_summary(organizer_client, world):
    campaign, _ = world
    page = organizer_client.get(
        reverse("insights:cascades"), {"campaign": "grid", "since": "2026-03-03"}
    )
    assert summary_json(page.context["summary"]) == summary_json(
        spread_summary(campaign, "2026-03-03", None, use_cache=False)
    )


def test_unknown_campaign_says_so(organizer_client, world):
    for slug in ["nope", "bad slug", "nul\x00", "x" * 500]:
        response = organizer_client.get(reverse("insights:overview"), {"campaign": slug})
        assert response.status_code == 404
        assert "There is no campaign with that name" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since must be a date written as YYYY-MM-DD"),
        ({"until": "2026-02-30"}, "until must be a date written as YYYY-MM-DD"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "is before since"),
        ("since=%00%ED%A0%80", "since must be a date"),  # a NUL, bytes that are not UTF-8
        ("until=%3Cscript%3E", "until must be a date"),
    ],
)
def test_bad_dates_say_what_is_wrong(organizer_client, world, params, message):
    for name in PAGES:
        if isinstance(params, str):
            response = organizer_client.get(f"{reverse(name)}?campaign=grid&{params}")
        else:
            response = organizer_client.get(reverse(name), {"campaign": "grid", **params})
        assert response.status_code == 400
        assert message in response.content.decode()


def test_a_long_window_counts_by_week(organizer_client, world):
    response = organizer_client.get(
        reverse("insights:overview"),
        {"campaign": "grid", "since": "2025-10-01", "until": "2026-03-31"},
    )
    growth = response.context["data"].growth
    assert growth.buckets.unit == "week"
    assert growth.buckets.starts[0].isoformat() == "2025-09-29"  # the Monday of that week
    week = growth.buckets.index(day(1).date())
    assert growth.new_people[week] == 6  # everyone arrived in the week of March 2
    assert growth.active_people[week] == 6
    assert growth.acts_total == 10
    assert sum(growth.new_people) == 6


def test_csv_export_of_a_chart(organizer_client, world):
    response = organizer_client.get(
        reverse("insights:cascades"), {"campaign": "grid", "csv": "generations"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="grid-generations.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Generation (0: not recruited by anyone)", "People"]] + [
        [str(g), str(n)] for g, n in enumerate([2, 2, 1, 1])
    ]
    missing = organizer_client.get(reverse("insights:cascades"), {"campaign": "grid", "csv": "x"})
    assert missing.status_code == 404
    assert "There is no chart of that name" in missing.content.decode()


def test_without_a_campaign_the_page_offers_to_start_one(organizer_client):
    response = organizer_client.get(reverse("insights:overview"))
    assert response.status_code == 200
    assert "No campaign yet" in response.content.decode()


def test_the_newest_live_campaign_is_shown_by_default(organizer_client, world):
    CampaignFactory(slug="draft", status="draft")
    response = organizer_client.get(reverse("insights:channels"))
    assert response.context["campaign"].slug == "grid"


def test_an_empty_campaign_draws_empty_charts(organizer_client):
    CampaignFactory(slug="quiet")
    for name in PAGES:
        response = organizer_client.get(reverse(name), {"campaign": "quiet"})
        assert response.status_code == 200
        assert "Nothing in this window yet" in response.content.decode()


def test_organizer_menu_has_insights(organizer_client, world):
    page = organizer_client.get(reverse("core:organize")).content.decode()
    assert f'<a href="{reverse("insights:overview")}">Insights</a>' in page


def test_person_page_shows_their_tree_and_chain(organizer_client, world):
    campaign, people = world
    page = organizer_client.get(reverse("people:detail", args=[people["B"].pk]))
    text = page.content.decode()
    (item,) = page.context["recruitment_trees"]
    assert item.campaign == campaign
    assert item.chain == [(people["A"].pk, "A Test")]
    assert [n.name for n in item.tree.nodes] == ["B Test", "D Test", "E Test"]
    assert "Brought in and bringing in" in text
    assert reverse("people:detail", args=[people["E"].pk]) in text
    # The ledger's timeline names whom they brought in.
    assert f'Brought in <a href="{reverse("people:detail", args=[people["D"].pk])}">D Test</a>' in (
        text
    )
    assert "Brought someone in" not in text


def test_person_page_of_someone_outside_the_grid_shows_no_tree(organizer_client, world):
    campaign, _ = world
    loner = PersonFactory()
    acts(loner, campaign, day(2))
    page = organizer_client.get(reverse("people:detail", args=[loner.pk]))
    assert page.status_code == 200
    assert "recruitment_trees" not in page.context or not page.context["recruitment_trees"]
    assert "Brought in and bringing in" not in page.content.decode()


def test_person_page_tree_query_count_does_not_grow(django_assert_max_num_queries, world):
    from rallypoint.insights.queries import person_page

    campaign, people = world
    other = CampaignFactory()
    acts(people["A"], other, day(1))
    for _ in range(5):
        recruits(people["A"], PersonFactory(), other, day(2))
    with django_assert_max_num_queries(4):
        trees = person_page(people["A"])["recruitment_trees"]
    assert sorted(t.reach for t in trees) == [4, 5]


def test_audit_of_other_campaigns_does_not_change_share_texts(organizer_client, organizer, world):
    campaign, _ = world
    other = CampaignFactory()
    log_action("campaign.share_texts.updated", obj=other, actor=organizer, data={"x": "Other"})
    page = organizer_client.get(reverse("insights:channels"), {"campaign": "grid"})
    assert "Other" not in [u.text for u in page.context["data"].share_texts]
    assert Activity.objects.filter(campaign=campaign).count() == 10
