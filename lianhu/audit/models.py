from django.conf import settings
from django.db import models

from lianhu.common.masking import mask_digit_runs
from lianhu.common.scoping import Scope, ScopedManager
from lianhu.common.sheets import sheet_label

from .verbs import COUNT_LABELS, FILTER_LABELS, verb_label


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
    field = models.CharField("字段", max_length=50, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = ScopedManager()
    scope = Scope(office="office", zone="office__zone")

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
    def shown_object(self) -> str:
        """The object column as shown: an import's file name with its ID numbers and phones masked (the
        entries kept the name in clear before November 2026; household codes elsewhere stay as they are)."""
        return mask_digit_runs(self.object_repr) if self.action == "import" else self.object_repr

    @property
    def summary(self) -> str:
        """What an import, export or look-up concerned, in words (their detail has no object to name)."""
        d = self.detail or {}
        if "export" in d:
            from .services import masked_search  # entries written before searches were masked

            filters = "，".join(f"{FILTER_LABELS.get(k, k)}：{masked_search(v) if k == 'q' else v}"
                                for k, v in (d.get("filters") or {}).items())
            return (f"{sheet_label(d['export'], short=True)} {d.get('rows', 0):,} 行，"
                    f"{'脱敏' if d.get('masked') else '完整（含身份证号、电话）'}" + (f"；筛选 {filters}" if filters else ""))
        if "import" in d:
            counts = "；".join(f"{entity} " + "、".join(f"{COUNT_LABELS.get(k, k)} {n:,}" for k, n in c.items() if n)
                              for entity, c in (d.get("counts") or {}).items() if any(c.values()))
            file = f"（{mask_digit_runs(d['file'])}）" if d.get("file") else ""  # also in older entries
            return f"{sheet_label(d['import'], short=True)}{file}：{counts or '没有改动'}"
        if "id_number" in d:
            return f"身份证号 {d['id_number']}"
        if d.get("changes"):  # an update: each field before → after, personal data masked (services.snapshot)
            return "；".join(f"{label}：{before or '（空）'} → {after or '（空）'}" for label, before, after in d["changes"])
        if d.get("values"):  # a creation
            return "；".join(f"{label}：{value}" for label, value in d["values"])
        return ""
