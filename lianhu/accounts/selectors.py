"""Reads of accounts: whose password a user may reset, and the office or zone a user's own log entries belong to."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Membership, Role, User

# A secretary or the office resets the password of those who ask them in person; anyone else's (a secretary's,
# the office's) goes to the operators (`manage.py changepassword`).
RESETTABLE_ROLES = (Role.MEMBER, Role.GRID_WORKER)


def users_resettable_by(actor: User) -> QuerySet[User]:
    """Users whose password `actor` may reset: every role they hold is a member's or a grid worker's inside
    his scope for `reset_passwords` (a branch secretary: his branch; office staff: their office). Nobody
    with a role elsewhere, no superuser or staff, no demo account, not himself."""
    within = Membership.objects.visible_to(actor, "reset_passwords").filter(is_active=True, role__in=RESETTABLE_ROLES)
    elsewhere = Membership.objects.filter(is_active=True).exclude(pk__in=within.values("pk"))
    return (
        User.objects.filter(is_active=True, is_superuser=False, is_staff=False, is_demo=False,
                            memberships__in=within.values("pk"))
        .exclude(memberships__in=elsewhere.values("pk"))
        .exclude(pk=actor.pk)
        .distinct()
    )


def office_id_of(user: User | None) -> int | None:
    """The office of the user's first role: his logins, password changes and resets are entries of that
    office's log, where its audit administrators see them (none for a zone's user)."""
    membership = user.primary_membership if user is not None else None
    offices = membership.anchors().get("office") if membership is not None else None
    return offices[0] if offices else None


def zone_id_of(user: User | None) -> int | None:
    """The zone of the user's first role: the entries about a zone's account (a failed login) have no office,
    and belong to that zone's log (`audit_log` finds it by itself from an actor)."""
    membership = user.primary_membership if user is not None else None
    zones = membership.anchors().get("zone") if membership is not None else None
    return zones[0] if zones else None
