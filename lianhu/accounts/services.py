"""Writes of accounts, each with its audit entry in the same transaction."""

from __future__ import annotations

import re

from axes.utils import reset as axes_reset
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lianhu.audit.services import audit_log

from .models import User
from .passwords import temporary_password
from .selectors import office_id_of, second_factor_locked_until

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


# ---- The second factor (docs/decisions.md, "The second factor") ----------------------------------------

RECOVERY_CODES = 10
TOTP_CODE = re.compile(r"\d{6}")
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")  # django-otp's StaticToken.random_token(): 40 random bits


class SecondFactorLocked(Exception):
    """Too many wrong codes: none is checked until the time it says."""

    def __init__(self, until):
        super().__init__(f"验证码错误次数过多，已暂停验证，请于 {timezone.localtime(until):%H:%M} 后再试")
        self.until = until


def normalise_code(raw: str) -> str:
    """What the user typed, without the spaces and dashes the codes are shown or copied with."""
    return re.sub(r"[\s-]", "", raw or "").lower()


def _locked_until(user: User, ip: str | None):
    """Under a lock of his row (two guesses at once are counted one after the other): until when his codes
    are refused, audited as such; None if they may be checked. Checked before the code is looked at, so a
    locked account learns nothing from its guesses."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    until = second_factor_locked_until(user)
    if until is not None:
        audit_log(actor=user, action="otp_locked", obj=user, ip=ip, office_id=office_id_of(user))
    return until


def _audit(user: User, action: str, ip: str | None, **detail) -> None:
    audit_log(actor=user, action=action, obj=user, ip=ip, office_id=office_id_of(user), detail=detail)


def _matching_device(user: User, code: str) -> Device | None:
    """His device that accepts `code`: a 6-digit code is his authenticator's, anything else one of his
    recovery codes (used up by it)."""
    if TOTP_CODE.fullmatch(code):
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    elif RECOVERY_CODE.fullmatch(code):
        device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    else:
        return None
    return device if device is not None and device.verify_token(code) else None


def second_factor_verify(*, user: User, code: str, ip: str | None = None) -> Device | None:
    """The device that accepts `code` (his authenticator's 6-digit code, or one of his recovery codes), or
    None; audited either way, and SecondFactorLocked after too many wrong codes. The caller marks the
    session verified (django_otp.login)."""
    code = normalise_code(code)
    device = None
    with transaction.atomic():
        until = _locked_until(user, ip)
        if until is None:
            device = _matching_device(user, code)
            if isinstance(device, StaticDevice):
                _audit(user, "otp_recovery_used", ip, left=device.token_set.count())
            elif device is not None:
                _audit(user, "otp_verified", ip)
            else:
                _audit(user, "otp_failed", ip, kind="recovery" if RECOVERY_CODE.fullmatch(code) else "totp")
    if until is not None:
        raise SecondFactorLocked(until)
    return device


def totp_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator to bind, not yet confirmed: the same secret on every visit until he confirms it."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)


def _new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes, replacing any he had; returned to be shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_enrol(*, user: User, device: TOTPDevice, code: str, ip: str | None = None) -> list[str] | None:
    """Bind `device` (from totp_enrolment) if `code` is its current code, and give him ten recovery codes,
    returned to be shown once; None for a wrong code, counted like any wrong code (SecondFactorLocked)."""
    code = normalise_code(code)
    codes = None
    with transaction.atomic():
        until = _locked_until(user, ip)
        if until is None:
            device = TOTPDevice.objects.get(pk=device.pk, user=user, confirmed=False)
            if TOTP_CODE.fullmatch(code) and device.verify_token(code):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
                codes = _new_recovery_codes(user)
                _audit(user, "otp_enrolled", ip)
            else:
                _audit(user, "otp_failed", ip, kind="enrol")
    if until is not None:
        raise SecondFactorLocked(until)
    return codes


def recovery_codes_renew(*, user: User, ip: str | None = None) -> list[str]:
    """Ten new recovery codes in place of his old ones; the caller has just checked one of his codes."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _audit(user, "otp_codes_renewed", ip)
    return codes


def second_factor_reset(*, actor: User | None, user: User, ip: str | None = None) -> None:
    """Unbind his authenticator and drop his recovery codes: his sessions stop being verified at once, and
    at his next login he binds a new one. The caller looked `user` up through
    `users_second_factor_resettable_by(actor)` (or is an operator: actor None)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_log(actor=actor, action="otp_reset", obj=user, ip=ip, office_id=office_id_of(user))
