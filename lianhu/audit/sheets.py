"""The audit log as a spreadsheet: exported only, by the audit administrator, as his page filters it.

Registered in the sheet registry like the domain's rosters, so the spreadsheets app (above this one)
writes and audits the export (verb `export`) as it does the others'; the registry's `importable`,
`export_action` and `personal_data` tell it that this one has no template or upload, is read with
`view_audit`, and has nothing to mask: the log holds no personal data in clear (ID numbers searched
for are masked when written, people are shown by their masked names, as on the page).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from lianhu.common import xlsx
from lianhu.common.xlsx import Column

from .filters import AuditFilter
from .models import AuditEntry


class AuditSheet(xlsx.RosterSheet):
    kind = "audit"
    sheet_name = "操作日志"
    label = "操作日志"
    action = export_action = "view_audit"
    importable = False
    personal_data = False
    filterset = AuditFilter
    columns = (
        Column("at", "时间", width=19),
        Column("office", "办事处", width=12),
        Column("actor", "操作人", width=10),
        Column("username", "账号", width=14, text_format=True),
        Column("action", "操作", width=12),
        Column("object_type", "对象类型", width=8),
        Column("object_id", "对象编号", width=8, text_format=True),
        Column("object", "对象", width=28),
        Column("field", "字段", width=8),
        Column("summary", "说明", width=40),
        Column("ip", "来源地址", width=16, text_format=True),
    )
    instructions = (
        "本表是操作日志的导出，只能查阅，不能导入。时间为北京时间。",
        "日志不记录身份证号、电话等个人信息的明文：查询的身份证号只留前 3 位和后 4 位，居民和党员只显示姓。",
        "“办事处”为空的是区级记录（区级账号的登录等）或不属于任何办事处的记录（不存在的账号登录失败等）。",
    )

    def export_queryset(self):
        """The office's entries (the operator's `export_xlsx audit … --office`)."""
        return AuditEntry.objects.filter(office=self.office)

    def export_rows(self, queryset, *, masked: bool) -> Iterator[list]:
        for e in queryset.select_related("actor", "office").iterator(chunk_size=2000):
            yield [timezone.localtime(e.at).replace(tzinfo=None), e.office.name if e.office else "", e.actor_label,
                   e.username, e.action_label, e.object_type_label if e.object_type else "", e.object_id,
                   e.shown_object, e.field_label, e.summary, e.ip or ""]
