"""The registries the apps fill: loud on a name registered twice or looked up unknown."""

import datetime as dt

import pytest

from lianhu.common import figures, permissions, seeders
from lianhu.common.figures import Figure, Period, ratio
from lianhu.common.navigation import nav_for, navigation, register_nav
from lianhu.common.registry import Registry, Slot, UnknownEntry, apply_all
from lianhu.common.scoping import Scope


def test_a_name_registered_twice_is_refused_and_an_unknown_one_raises_naming_the_known_ones():
    things = Registry("thing")
    things.register("a", 1)
    things.register("a", 1)  # the same entry again (an app config imported twice) is harmless
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        things.register("a", 2)
    with pytest.raises(UnknownEntry, match="unknown thing 'b'; registered: a"):
        things["b"]


def test_an_unknown_permission_action_raises_instead_of_finding_nothing():
    with pytest.raises(UnknownEntry, match="unknown permission action 'manage_memebrs'"):
        permissions.action("manage_memebrs")


def test_every_app_registered_its_actions_with_the_roles_that_hold_them():
    assert permissions.action("view").climbs and permissions.action("view_audit").climbs
    assert not permissions.action("edit_roster").climbs
    assert "grid_worker" in permissions.action("edit_roster").roles
    assert "grid_worker" not in permissions.action("manage_members").roles
    assert permissions.action("view_audit").roles == {"audit_admin"}  # 三员分立: the log is not the administrators'
    assert "audit_admin" not in permissions.action("view").roles


def test_a_scope_level_can_be_added_by_a_higher_app_but_not_replaced():
    scope = Scope(branch="branch")
    scope.extend(member="links__member")
    assert scope.paths["member"] == "links__member"
    with pytest.raises(ValueError, match="already defined"):
        scope.extend(branch="household__branch")
    with pytest.raises(ValueError, match="unknown scope levels"):
        scope.extend(street="x")


def test_slots_keep_their_entries_in_order_and_apply_all_passes_a_value_through_them():
    slot = Slot("test.slot")
    slot.add(lambda v: v + [1])
    slot(lambda v: v + [2])
    assert apply_all(slot, []) == [1, 2]


class _User:
    def __init__(self, actions):
        self.actions = actions

    def can(self, action):
        return action in self.actions


def test_navigation_lists_the_entries_a_user_gets_in_order():
    register_nav("test_late", "后", order=999, url=lambda user, m: "/late/")
    register_nav("test_hidden", "藏", order=1, url=lambda user, m: "/x/" if user.can("secret") else None)
    try:
        links = nav_for(_User(set()), None)
        assert links[-1] == ("后", "/late/") and ("藏", "/x/") not in links
        assert nav_for(_User({"secret"}), None)[0] == ("藏", "/x/")
    finally:
        navigation.unregister("test_late")
        navigation.unregister("test_hidden")


def test_periods_cover_a_day_a_month_and_a_year():
    assert Period.month(2027, 2) == Period(dt.date(2027, 2, 1), dt.date(2027, 2, 28), "2027年2月")
    assert Period.year(2026).end == dt.date(2026, 12, 31)
    assert Period.on(dt.date(2026, 7, 14)).label == "2026-07-14"


def test_figures_add_counts_over_branches_and_derive_rates_from_the_sums():
    def compute(branch_ids, period):
        return {1: {"test_done": 1, "test_total": 4}, 2: {"test_done": 3, "test_total": 4}}

    figures.register_figures("test", figures=[
        Figure("test_done", "已完成", "户", "完成的户"), Figure("test_total", "总数", "户", "全部的户"),
        Figure("test_rate", "完成率", "%", "已完成 ÷ 总数", derived=ratio("test_done", "test_total", percent=True)),
    ], compute=compute)
    try:
        table = figures.compute([1, 2], Period.on(dt.date(2026, 1, 1)), sets=["test"])
        assert table.rows[1].test_rate == 25.0 and table.rows[2].test_rate == 75.0
        assert (table.total.test_done, table.total.test_total, table.total.test_rate) == (4, 8, 50.0)
    finally:
        figures.figure_sets.unregister("test")
        for key in ("test_done", "test_total", "test_rate"):
            figures.figures.unregister(key)


def test_seeders_run_after_those_they_name_and_each_has_its_own_stream():
    saved = dict(seeders.seeders.items())
    try:
        for name in list(seeders.seeders):
            seeders.seeders.unregister(name)
        seeders.seeder("c", after=("a", "b"))(lambda ctx: None)
        seeders.seeder("b", after=("a",))(lambda ctx: None)
        seeders.seeder("a")(lambda ctx: None)
        assert [s.name for s in seeders.ordered()] == ["a", "b", "c"]
        assert seeders.stream(1, "a").random() == seeders.stream(1, "a").random() != seeders.stream(1, "b").random()
        seeders.seeder("d", after=("e",))(lambda ctx: None)
        with pytest.raises(UnknownEntry):
            seeders.ordered()
    finally:
        for name in list(seeders.seeders):
            seeders.seeders.unregister(name)
        for name, entry in saved.items():
            seeders.seeders.register(name, entry)
