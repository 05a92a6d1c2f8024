from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q

from lianhu.common.masking import mask_digit_runs, mask_name
from lianhu.common.models import SealedPersonalData
from lianhu.common.scoping import Scope, ScopedManager
from lianhu.common.sheets import sheet_holds_personal_data, sheet_label

from .verbs import COUNT_LABELS, FILTER_LABELS, verb_label


def _zone_level(ids: list[int]) -> Q:
    """A zone's entries: its offices', those of no office it was given (a zone account's login, a zone-wide
    export), and those given to nobody (a failed login of a name no account has, a superuser's): those
    concern no office nor zone, so the audit administrators of every zone see them."""
    return Q(office__zone__in=ids) | Q(office__isnull=True) & (Q(zone__in=ids) | Q(zone__isnull=True))


class AuditEntry(models.Model):
    """One thing someone did, when, from where, to which object. Append-only (a trigger refuses updates)."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    # DO_NOTHING without a database constraint: the entry is append-only (SET_NULL would be an UPDATE the
    # trigger refuses), and actor_label keeps who it was after the user is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", verbose_name="操作人",
    )
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    # A plain string: the verbs are registered by the apps (audit.verbs), so a new one needs no migration.
    action = models.CharField("操作", max_length=20)
    object_type = models.CharField("对象类型", max_length=50, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    office = models.ForeignKey(
        "org.Office", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, verbose_name="办事处"
    )
    # Only on an entry of no office (a zone account's login, logout or failed login): an office's entry has
    # its zone through the office, so the entries written before this column need no update (refused anyway).
    zone = models.ForeignKey(
        "org.Zone", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
        verbose_name="区",
    )
    field = models.CharField("字段", max_length=50, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = ScopedManager()
    scope = Scope(office="office", zone=_zone_level)

    class Meta:
        verbose_name = verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action_label} {self.shown_object}"

    @property
    def action_label(self) -> str:
        return verb_label(self.action)

    @property
    def object_model(self):
        """The model of the entry's object, if it still exists."""
        try:
            return apps.get_model(self.object_type) if self.object_type else None
        except (LookupError, ValueError):
            return None

    @property
    def object_type_label(self) -> str:
        model = self.object_model
        return str(model._meta.verbose_name) if model is not None else self.object_type

    @property
    def shown_object(self) -> str:
        """The object column as shown: an import's file name with its ID numbers and phones masked (the
        entries kept the name in clear before November 2026; household codes elsewhere stay as they are),
        and a person (a resident, a member: a model with sealed personal data) by his masked name, as the
        audit administrator, who sees no business data, is shown it."""
        if self.action == "import":
            return mask_digit_runs(self.object_repr)
        model = self.object_model
        if model is not None and issubclass(model, SealedPersonalData):
            return mask_name(self.object_repr)
        return self.object_repr

    @property
    def field_label(self) -> str:
        """The field a reveal concerned, in words (the entry keeps its label since November 2026)."""
        return (self.detail or {}).get("label") or self.field

    @property
    def username(self) -> str:
        """The account: the actor's, or the one a failed login tried (digit runs masked: someone may type his
        phone or ID number as the name)."""
        if self.actor_id is not None:
            try:
                return self.actor.username if self.actor is not None else ""
            except ObjectDoesNotExist:  # the user is gone: actor_label still says who it was
                return ""
        return mask_digit_runs(str((self.detail or {}).get("username", "")))

    @property
    def summary(self) -> str:
        """What an import, export or look-up concerned, in words (their detail has no object to name)."""
        d = self.detail or {}
        if "export" in d:
            from .services import masked_search  # entries written before searches were masked

            filters = "，".join(f"{FILTER_LABELS.get(k, k)}：{masked_search(v) if k == 'q' else v}"
                                for k, v in (d.get("filters") or {}).items())
            personal = sheet_holds_personal_data(d["export"])
            masking = ("，脱敏" if d.get("masked") else "，完整（含身份证号、电话）") if personal else ""
            return (f"{sheet_label(d['export'], short=True)} {d.get('rows', 0):,} 行{masking}"
                    + (f"；筛选 {filters}" if filters else ""))
        if "import" in d:
            counts = "；".join(f"{entity} " + "、".join(f"{COUNT_LABELS.get(k, k)} {n:,}" for k, n in c.items() if n)
                              for entity, c in (d.get("counts") or {}).items() if any(c.values()))
            file = f"（{mask_digit_runs(d['file'])}）" if d.get("file") else ""  # also in older entries
            return f"{sheet_label(d['import'], short=True)}{file}：{counts or '没有改动'}"
        if "id_number" in d:
            return f"身份证号 {d['id_number']}"
        if isinstance(d.get("changes"), list):  # an update: each field before → after, personal data masked
            # (services.snapshot); a proposal's "changes" is a count, said below
            return "；".join(f"{label}：{before or '（空）'} → {after or '（空）'}" for label, before, after in d["changes"])
        if isinstance(d.get("values"), list):  # a creation
            return "；".join(f"{label}：{value}" for label, value in d["values"])
        if isinstance(d.get("changes"), int):  # a proposal of links, made or applied
            return f"{'已应用' if d.get('applied') else '建议'}调整 {d['changes']:,} 户"
        return ""
