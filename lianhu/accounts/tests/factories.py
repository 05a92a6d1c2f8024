"""Test builders of users and their roles, and of their second factor."""

from __future__ import annotations

import time

import django_otp
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lianhu.accounts.models import Membership, Role, User
from lianhu.common.testing import PASSWORD


def make_user(username: str, role: Role | None = None, **anchor) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username)
    if role is not None:
        advised = anchor.pop("advised_branches", None)
        m = Membership.objects.create(user=user, role=role, **anchor)
        if advised:
            m.advised_branches.set(advised)
    return user


def make_totp_device(user: User) -> TOTPDevice:
    """The authenticator he bound (as if through the enrolment page); his existing one if he has one."""
    return (TOTPDevice.objects.filter(user=user, confirmed=True).first()
            or TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True))


def totp_code(key: bytes, *, last_t: int = -1, step: int = 30, digits: int = 6) -> str:
    """The code an authenticator holding `key` shows now, computed as it would (RFC 6238), or the next
    step's if this step's was accepted already (`last_t`): django-otp accepts one step ahead, never a step
    twice. So two logins within 30 seconds both pass, whatever the clock does between computing and posting."""
    now_t = int(time.time()) // step
    return f"{hotp(key, max(now_t, last_t + 1), digits=digits):0{digits}d}"


def device_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return totp_code(device.bin_key, last_t=device.last_t, step=device.step, digits=device.digits)


def verify_session(client, user: User) -> None:
    """Mark the client's session as having typed its second factor, exactly as the code page does
    (django_otp.login with his confirmed device), for tests that log in with force_login."""
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, make_totp_device(user))
    request.session.save()


class VerifiedClient(Client):
    """Django's test client whose force_login also completes the second factor of a user who needs one, as
    if he had typed his code (the root conftest.py's `client`). Logging in through the login page
    (client.post) gets no such help: the tests of the second factor itself go that way."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if user.second_factor_required:
            verify_session(self, user)
