from __future__ import annotations

import datetime as dt
import hashlib
import operator
import secrets
from functools import cached_property, reduce

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone

from lianhu.common import permissions
from lianhu.common.scoping import Scope, ScopedManager


class User(AbstractUser):
    """A person who logs in: office staff, a branch secretary, a member, an advisor."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    password_changed_at = models.DateTimeField("密码修改时间", default=timezone.now)
    must_change_password = models.BooleanField(
        "须修改密码", default=False, help_text="下次登录后须先修改密码（新建账号、密码被重置后）")
    # Set by the demo app on the accounts it creates (accounts cannot import it): their passwords are
    # published in the README, so they log in only while LIANHU_DEMO_MODE is on.
    is_demo = models.BooleanField("演示账号", default=False, help_text="只在演示模式（LIANHU_DEMO_MODE=1）下可以登录")

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

    def set_password(self, raw_password):
        """Django's, noting when: every way of setting a password (the change page, a reset, the admin,
        `manage.py changepassword`) restarts its age."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password):
        # Django re-hashes an old-format password through set_password when it checks it; that is not a change.
        changed_at = self.password_changed_at
        try:
            return super().check_password(raw_password)
        finally:
            self.password_changed_at = changed_at

    @property
    def demo_refused(self) -> bool:
        """A demo account while the demo mode is off: no login, no session, no token."""
        return self.is_demo and not settings.LIANHU_DEMO_MODE

    @property
    def second_factor_required(self) -> bool:
        """Whether a password is not enough: superusers and the roles of SECOND_FACTOR_ROLES type a TOTP code
        (or a recovery code) too. Waived for the demo accounts in the demo mode only (README); outside it they
        cannot log in at all."""
        if self.is_demo and settings.LIANHU_DEMO_MODE:
            return False
        return self.is_superuser or any(m.requires_second_factor for m in self.active_memberships)

    def password_change_due(self) -> bool:
        """Whether he must change his password before anything else: flagged (new account, reset), or older
        than LIANHU_PASSWORD_MAX_AGE_DAYS (0: no limit). Never for a demo account (its password is shared)."""
        if self.is_demo:
            return False
        if self.must_change_password:
            return True
        days = settings.LIANHU_PASSWORD_MAX_AGE_DAYS
        return days > 0 and self.password_changed_at < timezone.now() - dt.timedelta(days=days)

    @cached_property
    def active_memberships(self) -> list[Membership]:
        return list(
            self.memberships.filter(is_active=True)
            .select_related("zone", "office__zone", "branch__office__zone", "grid__branch__office", "member__branch__office")
            .prefetch_related("advised_branches")
        )

    def memberships_allowing(self, action: str) -> list[Membership]:
        return [m for m in self.active_memberships if m.allows(action)]

    def can(self, action: str) -> bool:
        return self.is_superuser or bool(self.memberships_allowing(action))

    @property
    def primary_membership(self) -> Membership | None:
        ms = self.active_memberships
        return ms[0] if ms else None


class Role(models.TextChoices):
    ZONE_ADMIN = "zone_admin", "区党工委"
    OFFICE_ADMIN = "office_admin", "办事处党工委"
    OFFICE_STAFF = "office_staff", "办事处党建办"
    BRANCH_SECRETARY = "branch_secretary", "支部书记"
    GRID_WORKER = "grid_worker", "网格员"
    MEMBER = "member", "党员"
    ADVISOR = "advisor", "党建指导员"
    # 三员分立 (docs/security.md): reads the audit log of his office or zone, and nothing of its business data.
    AUDIT_ADMIN = "audit_admin", "审计管理员"


# The roles that see and export an office's or the zone's personal data in full, and issue API tokens: for
# them a password alone is not enough (等保 level 3, 身份鉴别; docs/decisions.md, "The second factor").
SECOND_FACTOR_ROLES = frozenset({Role.ZONE_ADMIN, Role.OFFICE_ADMIN, Role.OFFICE_STAFF, Role.AUDIT_ADMIN})


def _anchored_within(*paths: str):
    """Scope builder: memberships anchored at one of the ids, or anywhere below it (a grid, a member)."""
    return lambda ids: reduce(operator.or_, (Q(**{f"{path}__in": ids}) for path in paths))


class Membership(models.Model):
    """A user's role and the part of the hierarchy it applies to."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name="用户")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    zone = models.ForeignKey("org.Zone", null=True, blank=True, on_delete=models.CASCADE, verbose_name="区")
    office = models.ForeignKey("org.Office", null=True, blank=True, on_delete=models.CASCADE, verbose_name="办事处")
    branch = models.ForeignKey("org.Branch", null=True, blank=True, on_delete=models.CASCADE, verbose_name="支部")
    grid = models.ForeignKey("org.Grid", null=True, blank=True, on_delete=models.CASCADE, verbose_name="网格")
    member = models.ForeignKey(
        "members.PartyMember", null=True, blank=True, on_delete=models.CASCADE, verbose_name="党员"
    )
    advised_branches = models.ManyToManyField("org.Branch", blank=True, related_name="advisors", verbose_name="指导支部")
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedManager()
    # Where the membership is anchored (an advisor's spans branches and is in no one's scope): who may
    # reset the password of a member or grid worker is a question of where his role lies.
    scope = Scope(
        branch=_anchored_within("branch", "grid__branch", "member__branch"),
        office=_anchored_within("office", "branch__office", "grid__branch__office", "member__branch__office"),
        zone=_anchored_within("zone", "office__zone", "branch__office__zone", "grid__branch__office__zone",
                              "member__branch__office__zone"),
    )

    class Meta:
        verbose_name = verbose_name_plural = "角色授权"
        constraints = [
            models.CheckConstraint(
                name="membership_anchor_matches_role",
                condition=(
                    Q(role="zone_admin", zone__isnull=False)
                    | Q(role__in=["office_admin", "office_staff"], office__isnull=False)
                    | Q(role="branch_secretary", branch__isnull=False)
                    | Q(role="grid_worker", grid__isnull=False)
                    | Q(role="member", member__isnull=False)
                    | Q(role="advisor")
                    | Q(role="audit_admin", office__isnull=False, zone__isnull=True)
                    | Q(role="audit_admin", zone__isnull=False, office__isnull=True)
                ),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"

    def allows(self, action: str) -> bool:
        """Whether this role holds `action` (registered by its app; an unknown one raises UnknownEntry)."""
        return self.role in permissions.action(action).roles

    @property
    def can_reveal(self) -> bool:
        return self.allows("reveal")

    @property
    def requires_second_factor(self) -> bool:
        return self.role in SECOND_FACTOR_ROLES

    @property
    def can_manage_members(self) -> bool:
        return self.allows("manage_members")

    def anchors(self) -> dict[str, list[int]]:
        """The ids this membership is anchored to, at its own level and every level above it."""
        if self.role == Role.ZONE_ADMIN or (self.role == Role.AUDIT_ADMIN and self.zone_id):
            return {"zone": [self.zone_id]}
        if self.role in (Role.OFFICE_ADMIN, Role.OFFICE_STAFF, Role.AUDIT_ADMIN):
            return {"office": [self.office_id], "zone": [self.office.zone_id]}
        if self.role == Role.BRANCH_SECRETARY:
            b = self.branch
            return {"branch": [b.pk], "office": [b.office_id], "zone": [b.office.zone_id]}
        if self.role == Role.GRID_WORKER:
            b = self.grid.branch
            return {"grid": [self.grid_id], "branch": [b.pk], "office": [b.office_id], "zone": [b.office.zone_id]}
        if self.role == Role.MEMBER:
            b = self.member.branch
            return {"member": [self.member_id], "branch": [b.pk], "office": [b.office_id], "zone": [b.office.zone_id]}
        if self.role == Role.ADVISOR:
            branches = list(self.advised_branches.all())
            return {
                "branch": [b.pk for b in branches],
                "office": sorted({b.office_id for b in branches}),
                "zone": sorted({b.office.zone_id for b in branches}),
            }
        return {}


class ApiToken(models.Model):
    """A token an integration uses for /api/v1; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("前缀", max_length=8)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple[ApiToken, str]:
        key = "lh_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash_key(key), prefix=key[:8])
        return token, key
