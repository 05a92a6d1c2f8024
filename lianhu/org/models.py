from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse

from lianhu.common import crypto
from lianhu.common.models import LookupIndex, SealedPersonalData, unique_id_number
from lianhu.common.scoping import Scope, ScopedManager
from lianhu.common.validators import validate_division_code, validate_grid_code


# WGS84 degrees; China lies well inside these, and a typo like 1138.2 is refused with the field named.
LNG_VALIDATORS = [MinValueValidator(-180, "经度应在 -180 到 180 之间"), MaxValueValidator(180, "经度应在 -180 到 180 之间")]
LAT_VALIDATORS = [MinValueValidator(-90, "纬度应在 -90 到 90 之间"), MaxValueValidator(90, "纬度应在 -90 到 90 之间")]


class Zone(models.Model):
    """A development zone (区) above the sub-district offices, e.g. 郑州航空港实验区."""

    name = models.CharField("名称", max_length=50, unique=True)
    code = models.CharField("区划代码", max_length=6, unique=True)

    objects = ScopedManager()
    scope = Scope(zone="pk")

    class Meta:
        verbose_name = verbose_name_plural = "区"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Office(models.Model):
    """A sub-district office (办事处) and its party working committee."""

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="offices", verbose_name="区")
    name = models.CharField("名称", max_length=50, unique=True)
    code = models.CharField("区划代码", max_length=12, unique=True, validators=[validate_division_code])

    objects = ScopedManager()
    scope = Scope(office="pk", zone="zone")

    class Meta:
        verbose_name = verbose_name_plural = "办事处"
        ordering = ["code"]

    def __str__(self):
        return self.name


class BranchKind(models.TextChoices):
    VILLAGE = "village", "村"
    COMMUNITY = "community", "社区"


class Branch(models.Model):
    """A village or community party branch (党支部)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="branches", verbose_name="办事处")
    name = models.CharField("名称", max_length=50)
    kind = models.CharField("类型", max_length=10, choices=BranchKind.choices)
    code = models.CharField("区划代码", max_length=12, unique=True, validators=[validate_division_code])

    objects = ScopedManager()
    scope = Scope(branch="pk", office="office", zone="office__zone")

    class Meta:
        verbose_name = verbose_name_plural = "党支部"
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="branch_name_unique_in_office")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:branch_detail", args=[self.pk])


class Grid(models.Model):
    """A grid (网格) inside a branch's area, looked after by a grid worker."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="grids", verbose_name="支部")
    name = models.CharField("名称", max_length=50)
    code = models.CharField("网格编码", max_length=15, unique=True, validators=[validate_grid_code])

    objects = ScopedManager()
    scope = Scope(grid="pk", branch="branch", office="branch__office", zone="branch__office__zone")

    class Meta:
        verbose_name = verbose_name_plural = "网格"
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="grid_name_unique_in_branch")]

    def __str__(self):
        return f"{self.branch.name}·{self.name}"

    def get_absolute_url(self):
        return reverse("org:grid_detail", args=[self.pk])


class Household(models.Model):
    """A household (户): the unit a party member is linked to and visits."""

    # No index of its own: household_branch_visited (branch, last_visited_at) serves look-ups by branch.
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="households", verbose_name="支部",
                               db_index=False)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="households", verbose_name="网格")
    code = models.CharField("户编号", max_length=20, unique=True)
    address = models.CharField("住址", max_length=200)
    villager_group = models.CharField("村民组/楼栋", max_length=50, blank=True)
    lng = models.FloatField("经度", null=True, blank=True, validators=LNG_VALIDATORS)
    lat = models.FloatField("纬度", null=True, blank=True, validators=LAT_VALIDATORS)
    self_built = models.BooleanField("自建房", default=False)
    floors = models.PositiveSmallIntegerField(
        "层数", null=True, blank=True, validators=[MinValueValidator(1, "层数至少为 1"), MaxValueValidator(60, "层数不能超过 60")]
    )
    built_year = models.PositiveSmallIntegerField(
        "建成年份", null=True, blank=True,
        validators=[MinValueValidator(1900, "建成年份应在 1900 年以后"), MaxValueValidator(2100, "建成年份不正确")],
    )
    notes = models.TextField("备注", blank=True)
    # Stored so that "visited in the last 30 days" is an index range scan (MEASURED.md).
    last_visited_at = models.DateTimeField("最近走访", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()
    # The member level (the households a member links) is added by the members app.
    scope = Scope(grid="grid", branch="branch", office="branch__office", zone="branch__office__zone")

    class Meta:
        verbose_name = verbose_name_plural = "户"
        ordering = ["code"]
        indexes = [models.Index(fields=["branch", "last_visited_at"], name="household_branch_visited")]
        constraints = [
            models.CheckConstraint(
                name="household_floors_sane", condition=Q(floors__isnull=True) | Q(floors__lte=60),
                violation_error_message="层数不能超过 60",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.address}"

    def get_absolute_url(self):
        return reverse("org:household_detail", args=[self.pk])


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class CareTag(models.TextChoices):
    """Special groups a member should know about when visiting; not sensitive."""

    LIVING_ALONE = "独居老人", "独居老人"
    EMPTY_NEST = "空巢老人", "空巢老人"
    LEFT_BEHIND_CHILD = "留守儿童", "留守儿童"
    ELDERLY_80 = "高龄老人", "高龄老人"
    RETIRED_SOLDIER = "退役军人", "退役军人"


class SensitiveTag(models.TextChoices):
    """Health, disability and poverty tags: sensitive personal information, stored encrypted."""

    DISABLED = "残疾人", "残疾人"
    SUBSISTENCE = "低保", "低保"
    EXTREME_POVERTY = "特困", "特困"
    SERIOUS_ILLNESS = "重病", "重病"
    MONITORED = "防返贫监测", "防返贫监测"


class Relation(models.TextChoices):
    HEAD = "户主", "户主"
    SPOUSE = "配偶", "配偶"
    CHILD = "子女", "子女"
    PARENT = "父母", "父母"
    GRANDCHILD = "孙辈", "孙辈"
    OTHER = "其他", "其他"


class Resident(SealedPersonalData):
    """A person living in a household (居民)."""

    reveal_kind = "resident"  # /org/reveal/resident/<pk>/<field>/
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="residents", verbose_name="户")
    name = models.CharField("姓名", max_length=50)  # searched with "contains", which no btree index serves
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    relation = models.CharField("与户主关系", max_length=10, choices=Relation.choices, default=Relation.HEAD)
    care_tags = models.JSONField("关爱标签", default=list, blank=True)
    sensitive_tags_cipher = models.TextField(blank=True, default="", editable=False)
    # The version an edit is checked against (lianhu.common.versions); the database fills it for the
    # imports' bulk inserts, which name their columns.
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_default=Now())

    objects = ScopedManager()
    scope = Scope(  # the member level is added by the members app
        grid="household__grid",
        branch="household__branch",
        office="household__branch__office",
        zone="household__branch__office__zone",
    )

    class Meta:
        verbose_name = verbose_name_plural = "居民"
        ordering = ["household_id", "id"]
        # Few indexes on purpose: every one costs each of a 100,000-row import's inserts. Residents are
        # not searched by phone (phone_hash only tells an import whether the number changed).
        indexes = [
            LookupIndex(fields=["id_number_hash"], name="resident_id_hash"),
            # Prefix search by initials (sxm → 单雪梅); the operator class lets PostgreSQL use it for LIKE 'x%'.
            models.Index(fields=["name_initials"], name="resident_initials", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            unique_id_number("resident_id_number_unique")
        ]

    def __str__(self):
        return self.name

    def reveal_sensitive_tags(self) -> list[str]:
        return crypto.decrypt_json(self.sensitive_tags_cipher, default=[])

    def set_sensitive_tags(self, tags: list[str]) -> None:
        self.sensitive_tags_cipher = crypto.encrypt_json(sorted(set(tags)))

    @property
    def has_sensitive_tags(self) -> bool:
        return bool(self.sensitive_tags_cipher)
