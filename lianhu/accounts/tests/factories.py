"""Test builders of users and their roles."""

from __future__ import annotations

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
