from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse

from lianhu.common.masking import age_on
from lianhu.common.models import LookupIndex, SealedPersonalData, unique_id_number
from lianhu.common.scoping import Scope, ScopedManager, ScopedQuerySet
from lianhu.org.models import LAT_VALIDATORS, LNG_VALIDATORS, Gender

DEFAULT_CAPACITY = 10
MAX_CAPACITY = 50


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "联户"
    EXEMPT = "exempt", "丧失联户能力"
    LEFT = "left", "已转出"


class ExemptReason(models.TextChoices):
    OLD = "老", "老（年老体衰）"
    FRAIL = "弱", "弱（体弱）"
    ILL = "病", "病（患病）"
    DISABLED = "残", "残（残疾）"
    AWAY = "长期外出", "长期外出"


PARTY_AGE = 18  # 党章：年满十八岁


def party_age_problem(birth: dt.date | None, joined: dt.date | None) -> tuple[str, str] | None:
    """(level, message) when a joining date cannot be right for the birth date: before it (an error),
    or before the 18th birthday the constitution asks for (a warning: old records may say so)."""
    if not birth or not joined:
        return None
    if joined < birth:
        return "error", f"入党日期（{joined:%Y-%m-%d}）早于出生日期"
    try:
        of_age = birth.replace(year=birth.year + PARTY_AGE)
    except ValueError:  # born on 29 February, or so late that the 18th birthday is past year 9999
        of_age = dt.date(min(birth.year + PARTY_AGE, dt.MAXYEAR), 3, 1)
    if joined < of_age:
        return "warning", f"入党时未满 {PARTY_AGE} 周岁，请核对入党日期和出生日期"
    return None


def underage_problem(birth: dt.date | None, today: dt.date | None = None) -> str | None:
    """A member born less than 18 years ago cannot be one: most likely a resident's row in the wrong file."""
    if birth and age_on(birth, today) < PARTY_AGE:
        return f"未满 {PARTY_AGE} 周岁，不能登记为党员，请核对出生日期"
    return None


def _members_self(member_ids: list[int]) -> Q:
    return Q(pk__in=member_ids)


class PartyMember(SealedPersonalData):
    """A party member of a branch, who links households or is exempt (and then keeps a post)."""

    reveal_kind = "member"  # /org/reveal/member/<pk>/<field>/
    branch = models.ForeignKey("org.Branch", on_delete=models.PROTECT, related_name="members", verbose_name="支部")
    grid = models.ForeignKey(
        "org.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name="所在网格"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_member",
        verbose_name="登录账号",
    )
    name = models.CharField("姓名", max_length=50)  # searched with "contains", which no btree index serves
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    joined_party_on = models.DateField("入党日期", null=True, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    lng = models.FloatField("经度", null=True, blank=True, validators=LNG_VALIDATORS)
    lat = models.FloatField("纬度", null=True, blank=True, validators=LAT_VALIDATORS)
    status = models.CharField("状态", max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    capacity = models.PositiveSmallIntegerField(
        "可联系户数", default=DEFAULT_CAPACITY, validators=[MaxValueValidator(MAX_CAPACITY, "可联系户数不能超过 %(limit_value)s 户")]
    )
    exempt_reason = models.CharField("不能联户原因", max_length=10, choices=ExemptReason.choices, blank=True)
    exempt_since = models.DateField("认定日期", null=True, blank=True)
    exempt_approved_by = models.CharField("认定人", max_length=50, blank=True)
    post = models.CharField("设岗定责", max_length=50, blank=True, help_text="不能联户的党员所担任的岗位，如政策宣传岗")
    # The version an edit is checked against (lianhu.common.versions); the database fills it for the
    # imports' bulk inserts, which name their columns.
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())

    objects = ScopedManager()
    scope = Scope(member=_members_self, grid="grid", branch="branch", office="branch__office", zone="branch__office__zone")

    class Meta:
        verbose_name = verbose_name_plural = "党员"
        ordering = ["branch_id", "name", "id"]
        indexes = [
            models.Index(fields=["branch", "status"], name="member_branch_status"),
            LookupIndex(fields=["id_number_hash"], name="member_id_hash"),
            models.Index(fields=["name_initials"], name="member_initials", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="member_exempt_has_reason_and_date",
                condition=~Q(status="exempt") | (~Q(exempt_reason="") & Q(exempt_since__isnull=False)),
            ),
            models.CheckConstraint(
                name="member_reason_only_when_exempt", condition=Q(status="exempt") | Q(exempt_reason="")
            ),
            unique_id_number("member_id_number_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("members:member_detail", args=[self.pk])


class LinkQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(ended_on__isnull=True)


class EndReason(models.TextChoices):
    MEMBER_EXEMPT = "exempt", "党员丧失联户能力"
    MEMBER_LEFT = "left", "党员转出"
    REASSIGNED = "reassigned", "调整联系党员"
    MANUAL = "manual", "手工解除"


class LiaisonLink(models.Model):
    """A member's responsibility for a household over a period (党员联系户); history is kept."""

    member = models.ForeignKey(PartyMember, on_delete=models.PROTECT, related_name="links", verbose_name="党员")
    # PROTECT: a household with link history is kept (and closed), never deleted with its history.
    household = models.ForeignKey("org.Household", on_delete=models.PROTECT, related_name="links", verbose_name="户")
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=12, choices=EndReason.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="建立人"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="解除人"
    )

    objects = models.Manager.from_queryset(LinkQuerySet)()
    scope = Scope(
        # A member sees the links he holds now, not where households he once served have gone.
        member=lambda ids: Q(member_id__in=ids, ended_on__isnull=True),
        grid="household__grid",
        branch="household__branch",
        office="household__branch__office",
        zone="household__branch__office__zone",
    )

    class Meta:
        verbose_name = verbose_name_plural = "联系关系"
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(ended_on__isnull=True), name="one_active_link_per_household"
            ),
            models.CheckConstraint(
                name="link_ends_after_start", condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on"))
            ),
        ]
        indexes = [models.Index(fields=["member", "ended_on"], name="link_member_active")]

    def __str__(self):
        return f"{self.member} → {self.household}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "待确认"
    APPLIED = "applied", "已应用"
    DISCARDED = "discarded", "已放弃"
    STALE = "stale", "已过期"


class LinkProposal(models.Model):
    """A proposed set of links (联系方案) worked out by the solver, applied only when a person confirms it."""

    office = models.ForeignKey("org.Office", on_delete=models.CASCADE, related_name="link_proposals",
                               verbose_name="办事处")
    # Null: the whole office. A branch secretary sees only proposals for his own branch.
    branch = models.ForeignKey("org.Branch", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="link_proposals", verbose_name="支部")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="生成人")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    rebalance_margin = models.PositiveIntegerField(
        "调整阈值（米）", null=True, blank=True, help_text="为空：保留现有联系，只安排未联系的户"
    )
    status = models.CharField("状态", max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    # Hash of the active links in scope when the proposal was computed: any change since makes it stale.
    links_fingerprint = models.CharField(max_length=64, editable=False)
    summary = models.JSONField("概况", default=dict, blank=True)
    changes = models.JSONField("变动", default=list, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="处理人")
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    objects = ScopedManager()
    scope = Scope(branch="branch", office="office", zone="office__zone")

    class Meta:
        verbose_name = verbose_name_plural = "联系方案"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="proposal_decided_has_time",
                condition=Q(status__in=["draft", "stale"]) | Q(decided_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.branch or self.office}联系方案 #{self.pk}"

    def get_absolute_url(self):
        return reverse("members:proposal_detail", args=[self.pk])
