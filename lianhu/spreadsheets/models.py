"""Import jobs: a spreadsheet someone uploaded, checked, then written once confirmed."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lianhu.common import crypto
from lianhu.common.masking import mask_digit_runs
from lianhu.common.scoping import Scope, ScopedManager
from lianhu.common.sheets import sheet_label


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "排队等待检查"
    VALIDATING = "validating", "正在检查"
    PREVIEWED = "previewed", "已检查"
    CONFIRMED = "confirmed", "已确认，排队等待写入"
    APPLYING = "applying", "正在写入"
    APPLIED = "applied", "已导入"
    FAILED = "failed", "失败"


class ImportJob(models.Model):
    """A spreadsheet someone uploaded: checked first (the preview), written only once confirmed.

    Infrastructure, not domain: the upload is kept sealed (it holds ID numbers in clear) until the
    job is applied or abandoned, so the preview, the confirmation and the problem download all read
    the same file, and a background worker on another machine can read it too.
    """

    ACTIVE = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.CONFIRMED, ImportStatus.APPLYING)

    kind = models.CharField("类型", max_length=20)  # a sheet kind of the registry (common.sheets)
    office = models.ForeignKey("org.Office", on_delete=models.CASCADE, related_name="import_jobs", verbose_name="办事处")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="上传人")
    filename = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("文件大小", default=0)
    content = models.BinaryField("文件（加密）", default=b"", editable=False)
    status = models.CharField("状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    rows = models.PositiveIntegerField("数据行数", default=0)
    progress = models.PositiveSmallIntegerField("进度", default=0)  # percent of the current phase
    phase = models.CharField("阶段", max_length=20, blank=True)
    sheet = models.CharField("工作表", max_length=100, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)
    notes = models.JSONField("说明", default=list, blank=True)
    ignored = models.JSONField("未识别的列", default=list, blank=True)
    problems = models.JSONField("问题", default=list, blank=True)
    updates = models.JSONField("将更新的行", default=list, blank=True)  # [row, record, change], at most UPDATE_LIMIT
    # Who confirmed a file the worker writes, and from where: its audit entry names them.
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="确认人")
    confirmed_ip = models.GenericIPAddressField("确认人 IP", null=True, blank=True)
    error_count = models.PositiveIntegerField("错误数", default=0)
    warning_count = models.PositiveIntegerField("提醒数", default=0)
    message = models.TextField("结果说明", blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ScopedManager()
    scope = Scope(office="office", zone="office__zone")

    class Meta:
        db_table = "common_importjob"  # the table it had when it lived in common
        verbose_name = verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="importjob_status_updated")]

    def __str__(self):  # as the audit log keeps it: an ID number or phone in the file's name masked
        return f"{self.kind_label} {mask_digit_runs(self.filename)}"

    @property
    def kind_label(self) -> str:
        return sheet_label(self.kind)

    def set_content(self, data: bytes) -> None:
        self.content = crypto.encrypt_bytes(data)
        self.size = len(data)

    def read_content(self) -> bytes:
        return crypto.decrypt_bytes(self.content)

    @property
    def is_running(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def changes(self) -> int:
        return sum(c.get("created", 0) + c.get("updated", 0) + c.get("ended", 0) for c in (self.counts or {}).values())

    @property
    def annotatable(self) -> bool:
        """Whether the upload can come back with an 错误说明 column: some problem is on one of its rows
        (not "no header found" or "not a spreadsheet", which concern the file as a whole)."""
        return bool(self.content) and any(p.get("row") for p in self.problems or ())

    @property
    def can_confirm(self) -> bool:
        return self.status == ImportStatus.PREVIEWED and not self.error_count and self.changes > 0 and bool(self.content)
