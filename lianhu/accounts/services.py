"""Writes of accounts, each with its audit entry in the same transaction."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.db import transaction

from lianhu.audit.services import audit_log

from .models import User
from .passwords import temporary_password
from .selectors import office_id_of

PASSWORD_FIELDS = ["password", "password_changed_at", "must_change_password"]


def password_change(*, user: User, password: str, ip: str | None = None) -> None:
    """A user's new password of his own choosing (the form checked the old one and the policy)."""
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=PASSWORD_FIELDS)
        audit_log(actor=user, action="password_change", obj=user, ip=ip, office_id=office_id_of(user))


def password_reset(*, actor: User, user: User, ip: str | None = None) -> str:
    """Give `user` a temporary password he must change at his next login, and return it: it is shown to
    `actor` once and stored nowhere. The caller looked `user` up through `users_resettable_by(actor)`."""
    password = temporary_password(user)
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=PASSWORD_FIELDS)
        audit_log(actor=actor, action="password_reset", obj=user, ip=ip, office_id=office_id_of(user))
        # He may have locked himself out trying: the new password works at once, from anywhere.
        axes_reset(username=user.username)
    return password
