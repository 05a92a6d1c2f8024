"""Reads of accounts: whose password or second factor a user may reset, the state of a user's second factor,
and the office or zone a user's own log entries belong to."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lianhu.audit.models import AuditEntry

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


# Whose second factor a role resets, at its own level: an office administrator his office's staff, the zone
# its offices' administrators. Anyone else's (the zone's own, a superuser's) goes to the operators
# (`manage.py reset_second_factor`); nobody resets his own.
SECOND_FACTOR_RESETS = {Role.OFFICE_ADMIN: (Role.OFFICE_STAFF,), Role.ZONE_ADMIN: (Role.OFFICE_ADMIN,)}


def users_second_factor_resettable_by(actor: User) -> QuerySet[User]:
    """Users whose second factor `actor` may reset: every role they hold is one `actor`'s roles reset
    (SECOND_FACTOR_RESETS) inside his scope for `reset_second_factor`. Not himself, no superuser, no demo account."""
    roles = {target for m in actor.memberships_allowing("reset_second_factor")
             for target in SECOND_FACTOR_RESETS[m.role]}
    within = Membership.objects.visible_to(actor, "reset_second_factor").filter(is_active=True, role__in=roles)
    elsewhere = Membership.objects.filter(is_active=True).exclude(pk__in=within.values("pk"))
    return (
        User.objects.filter(is_active=True, is_superuser=False, is_demo=False, memberships__in=within.values("pk"))
        .exclude(memberships__in=elsewhere.values("pk"))
        .exclude(pk=actor.pk)
        .distinct()
    )


def confirmed_totp(user: User) -> TOTPDevice | None:
    """The authenticator app he bound (one at most: binding another replaces it)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# Verbs after which his count of wrong codes starts again: a code accepted, or his second factor reset.
SECOND_FACTOR_SUCCESS = ("otp_verified", "otp_recovery_used", "otp_enrolled")


def second_factor_locked_until(user: User) -> dt.datetime | None:
    """Until when no code of his is checked, or None: LIANHU_OTP_FAILURE_LIMIT wrong codes (`otp_failed`
    entries) within the lockout's 30 minutes and since his last success lock him until the oldest of them
    is 30 minutes old. The audit log is the counter, as for ID-number look-ups."""
    window = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    since = timezone.now() - window
    last_success = AuditEntry.objects.filter(
        Q(actor=user, action__in=SECOND_FACTOR_SUCCESS)
        | Q(action="otp_reset", object_type=User._meta.label_lower, object_id=str(user.pk)),
        at__gte=since,
    ).aggregate(at=Max("at"))["at"]
    limit = settings.LIANHU_OTP_FAILURE_LIMIT
    failures = list(
        AuditEntry.objects.filter(actor=user, action="otp_failed", at__gte=max(since, last_success or since))
        .order_by("-at").values_list("at", flat=True)[:limit]
    )
    return failures[-1] + window if len(failures) == limit else None


def zone_id_of(user: User | None) -> int | None:
    """The zone of the user's first role: the entries about a zone's account (a failed login) have no office,
    and belong to that zone's log (`audit_log` finds it by itself from an actor)."""
    membership = user.primary_membership if user is not None else None
    zones = membership.anchors().get("zone") if membership is not None else None
    return zones[0] if zones else None
