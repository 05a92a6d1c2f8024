"""The one place where scope is enforced.

Every model that belongs to the hierarchy declares a `Scope`: for each level of the hierarchy, the
lookup path from the model to that level (or a function building a Q for it). A user's memberships
say which objects they are anchored to (a zone, an office, a branch, a grid, a member, or the
branches an advisor is assigned to). `Model.objects.visible_to(user, action)` keeps the memberships
that allow `action`, and for each one filters on the most specific level that both know.

Views and the API look objects up through this queryset only, so an object out of scope is simply
not found (404), and a write is looked up with the write action, so it is a second, explicit check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models
from django.db.models import Q

from .permissions import action as registered_action

# Most specific first.
LEVELS = ("member", "grid", "branch", "office", "zone")

PathOrBuilder = str | Callable[[list[int]], Q]


class Scope:
    """Lookup paths from a model to each level of the hierarchy it can be scoped by."""

    def __init__(self, **paths: PathOrBuilder):
        unknown = set(paths) - set(LEVELS)
        if unknown:
            raise ValueError(f"unknown scope levels: {unknown}")
        self.paths = paths

    def extend(self, **paths: PathOrBuilder) -> None:
        """Add levels a higher app knows the way to (members: which households a member links).

        Called from that app's AppConfig.ready(); a level the model already has cannot be replaced.
        """
        unknown = set(paths) - set(LEVELS)
        if unknown:
            raise ValueError(f"unknown scope levels: {unknown}")
        taken = set(paths) & set(self.paths)
        if taken and any(self.paths[level] is not paths[level] for level in taken):
            raise ValueError(f"scope levels already defined: {taken}")
        self.paths.update(paths)

    def q_for(self, anchors: dict[str, list[int]], *, climb: bool = True) -> Q | None:
        own_level = next((level for level in LEVELS if level in anchors), None)
        for level in LEVELS:
            if not climb and level != own_level:
                continue
            if level in anchors and level in self.paths:
                path = self.paths[level]
                ids = anchors[level]
                return path(ids) if callable(path) else Q(**{f"{path}__in": ids})
        return None


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view") -> ScopedQuerySet:
        """What `user` (an accounts.User, or None) may `action`; an unregistered action raises."""
        climb = registered_action(action).climbs
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        scope: Scope = self.model.scope
        q = None
        for membership in user.memberships_allowing(action):
            part = scope.q_for(membership.anchors(), climb=climb)
            if part is not None:
                q = part if q is None else q | part
        return self.none() if q is None else self.filter(q)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
