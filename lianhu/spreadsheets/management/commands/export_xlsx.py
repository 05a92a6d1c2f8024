"""Export an office's households, members or links to xlsx, in full (the operator's tool; audited).

    python manage.py export_xlsx households 户籍.xlsx --office 明港办事处
"""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from lianhu.common.sheets import sheets, sheet_class
from lianhu.spreadsheets.jobs import audit_export

from .import_xlsx import kinds_text, office_named


class Command(BaseCommand):
    @property
    def help(self):  # the kinds the apps registered (common.sheets)
        return f"导出一个办事处的{kinds_text(importing=False)}，列与导入模板相同，可再导入（操作日志只能导出）。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(sheets))
        parser.add_argument("out", metavar="OUT.xlsx")
        parser.add_argument("--office", required=True, help="办事处名称，如 明港办事处")

    def handle(self, *args, kind, out, office, **options):
        office = office_named(office)
        sheet = sheet_class(kind)(office=office)
        queryset = sheet.export_queryset()

        def progress(rows):
            return tqdm(rows, total=sheet.export_count(queryset), unit="行", desc="导出", file=sys.stderr,
                        disable=None if options["verbosity"] else True, dynamic_ncols=True)

        rows = sheet.write_export(out, queryset, masked=False, progress=progress)
        audit_export(kind=kind, office_id=office.pk, actor=None, ip=None, rows=rows, masked=False,
                     source=f"command ({getpass.getuser()})")
        self.stdout.write(self.style.SUCCESS(f"已导出 {rows:,} 行到 {out}"))
