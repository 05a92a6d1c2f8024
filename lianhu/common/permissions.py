"""Permission actions: what a role may do, each action registered by the app it belongs to.

`Model.objects.visible_to(user, action)` keeps the user's memberships whose role holds `action`. The
roles are accounts' (plain strings here: common knows no app); each app registers its actions in
ready(), e.g. members: `register_action("manage_members", "管理党员与联系户", roles=...)`. An action
nobody registered raises `UnknownEntry` instead of quietly finding nothing: a typo in a view must
fail its tests, not hide every object.
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import Registry


@dataclass(frozen=True)
class Action:
    name: str
    label: str  # 中文, for the pages that list what a role may do
    roles: frozenset[str]
    # Reading may climb from a membership's own level to the levels above it (a secretary sees his
    # office's name); any other action stays at the membership's own level, so a grid worker who may
    # edit households of his grid cannot create a grid in his branch.
    climbs: bool = False


actions: Registry[Action] = Registry("permission action")


def register_action(name: str, label: str, *, roles, climbs: bool = False) -> Action:
    return actions.register(name, Action(name=name, label=label, roles=frozenset(roles), climbs=climbs))


def action(name: str) -> Action:
    """The registered action `name`; UnknownEntry if there is none."""
    return actions[name]
