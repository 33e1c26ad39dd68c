"""Reading columns of numbers into arrays (insights.services.columns) and the forest walked over
them (insights.services.forest), on the database the suite runs on (SQLite or PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import networkx as nx
import numpy as np
import pytest
from django.db.models import Q

from rallypoint.insights.services.columns import Moment, Whole, read_columns, read_grouped
from rallypoint.insights.services.forest import Forest
from rallypoint.ledger.models import Activity, Recruitment
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_columns_come_back_row_by_row_with_times_to_the_microsecond():
    campaign = CampaignFactory()
    people = PersonFactory.create_batch(3)
    times = [AT, AT + timedelta(microseconds=1), AT + timedelta(days=400, microseconds=999_999)]
    Activity.objects.bulk_create(
        [
            Activity(person=p, kind=kind, campaign=campaign, created_at=at)
            for p, kind, at in zip(people, ["sign", "recruit", "sign"], times, strict=True)
        ]
    )
    read = read_columns(
        Activity.objects.filter(campaign=campaign).order_by("id"),
        person=Whole("person_id"),
        at=Moment("created_at"),
        signed=Whole("person_id", when=~Q(kind="recruit")),
    )
    rows = sorted(zip(read["person"].tolist(), read["at"].tolist(), strict=True))
    assert rows == [(p.pk, at.timestamp()) for p, at in zip(people, times, strict=True)]
    assert read["person"].dtype == np.int64
    assert sorted(read["signed"].tolist()) == [people[0].pk, people[2].pk]
    # No rows: empty arrays of the same kinds.
    empty = read_columns(
        Activity.objects.none(), person=Whole("person_id"), at=Moment("created_at")
    )
    assert (empty["person"].size, empty["person"].dtype, empty["at"].dtype) == (
        0,
        np.int64,
        np.float64,
    )


@pytest.mark.django_db
def test_grouped_columns_keep_each_groups_rows_together():
    campaign = CampaignFactory()
    a, b, c, d = PersonFactory.create_batch(4)
    for recruiter, recruit, channel in [(a, b, "x"), (a, c, "email"), (b, d, "x")]:
        Recruitment.objects.create(
            recruiter=recruiter, recruit=recruit, campaign=campaign, channel=channel, created_at=AT
        )
    groups = read_grouped(
        Recruitment.objects.filter(campaign=campaign),
        "channel",
        recruiter=Whole("recruiter_id"),
        recruit=Whole("recruit_id"),
    )
    assert list(groups) == ["email", "x"]
    pairs = {
        channel: sorted(zip(g["recruiter"].tolist(), g["recruit"].tolist(), strict=True))
        for channel, g in groups.items()
    }
    assert pairs == {"email": [(a.pk, c.pk)], "x": sorted([(a.pk, b.pk), (b.pk, d.pk)])}


def test_people_far_apart_map_by_rank_and_give_the_same_forest():
    tree = nx.bfs_tree(nx.random_labeled_tree(40, seed=3), 0)
    near = Forest.build(tree.edges)
    far = Forest.build((u * 10**12 + 7, v * 10**12 + 7) for u, v in tree.edges)
    assert near.people.ranked is None
    assert far.people.ranked is not None
    a, b = near.cascade(0), far.cascade(7)
    assert (a.size, a.depth, a.structural_virality) == (b.size, b.depth, b.structural_virality)
    assert far.wiener_index(7) == nx.wiener_index(tree.to_undirected())
    ids = np.array([7, 39 * 10**12 + 7])
    assert far.people.ids(far.people.positions(ids)).tolist() == ids.tolist()


def test_a_cycle_has_no_generation_and_the_rest_of_the_forest_is_walked():
    # 1 → 2 → 3 is a tree; 4 → 5 → 4 is a cycle (no root reaches it).
    forest = Forest.build([(1, 2), (2, 3), (4, 5), (5, 4)])
    position = forest.people.positions
    generations = forest.generation[position(np.array([1, 2, 3, 4, 5]))].tolist()
    assert generations == [0, 1, 2, -1, -1]
    assert forest.cascade(1).size == 3
    assert (forest.people.low, forest.people.size, forest.people.ranked) == (1, 5, None)
