from __future__ import annotations

import hashlib
import secrets
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from lianhu.common import permissions


class User(AbstractUser):
    """A person who logs in: office staff, a branch secretary, a member, an advisor."""

    display_name = models.CharField("姓名", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username

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
    def can_manage_members(self) -> bool:
        return self.allows("manage_members")

    def anchors(self) -> dict[str, list[int]]:
        """The ids this membership is anchored to, at its own level and every level above it."""
        if self.role == Role.ZONE_ADMIN:
            return {"zone": [self.zone_id]}
        if self.role in (Role.OFFICE_ADMIN, Role.OFFICE_STAFF):
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
