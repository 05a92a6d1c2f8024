"""The liaison figures of the registry, for today and for a past period."""

import datetime as dt

from lianhu.common import figures
from lianhu.common.figures import Period
from lianhu.members.services import link_end, member_mark_exempt


def test_todays_figures_are_the_seed_pages_words_for_the_branches_asked_for(world):
    table = figures.compute([world.branch_a.pk, world.branch_b.pk])
    a = table.rows[world.branch_a.pk]
    assert (a.members, a.members_linking, a.members_exempt, a.households, a.households_linked) == (2, 1, 1, 2, 1)
    assert (a.households_unlinked, a.liaison_coverage, a.households_per_linking_member) == (1, 50.0, 1.0)
    total = table.total
    assert (total.branches, total.households, total.households_linked, total.liaison_coverage) == (2, 3, 2, 66.7)


def test_a_past_period_counts_the_links_active_at_its_end(world):
    # The world's links start on 2026-01-01; member_a's ends on 2026-03-01.
    link_end(link=world.link_a, actor=world.office_admin, ended_on=dt.date(2026, 3, 1))
    member_mark_exempt(member=world.member_b, reason="病", since=dt.date(2026, 6, 1), approved_by="王振国",
                       actor=world.office_admin)
    ids = [world.branch_a.pk, world.branch_b.pk]

    february = figures.compute(ids, Period.month(2026, 2)).total
    assert (february.households_linked, february.members_linking) == (2, 2)
    assert february.members_exempt == 1  # member_a_exempt since 2026-01-01; member_b not yet

    assert figures.compute(ids, Period.month(2026, 4)).total.households_linked == 1
    assert figures.compute(ids, Period.year(2025)).total.households_linked == 0
    assert figures.compute(ids).total.households_linked == 0  # today: member_b's household was released too
