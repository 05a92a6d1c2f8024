"""Import a households, members or links sheet for one office, from the command line.

    python manage.py import_xlsx households 户籍.xlsx --office 明港办事处 --dry-run
    python manage.py import_xlsx members 党员.xlsx --office 明港办事处
    python manage.py import_xlsx links --template 联系关系模板.xlsx --office 明港办事处

Exit status 0: the file is clean and was applied (or would be, with --dry-run). Otherwise the
problem list is printed and the status is 1; nothing has been written. A file beyond the upload
limits (LIANHU_UPLOAD_MAX_BYTES, LIANHU_UPLOAD_MAX_ROWS) is refused before it is parsed.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lianhu.common import xlsx
from lianhu.common.sheets import importable_kinds, sheet_class, sheets
from lianhu.spreadsheets.jobs import audit_import, measure
from lianhu.org.models import Office

UPDATE_PRINT_LIMIT = 20  # rows that update a registered record, with the columns they change
PRINT_LIMIT = 200


def kinds_text(importing: bool = True) -> str:
    """The registered sheet kinds as the help says them: 户籍（户与居民）（households）、党员名册（members）…
    (those that can be imported, or with `importing` False those that can be exported)."""
    kinds = importable_kinds() if importing else list(sheets)
    return "、".join(f"{sheets[kind].label}（{kind}）" for kind in kinds)


def office_named(name: str) -> Office:
    office = Office.objects.filter(name=name).first()
    if office is None:
        known = "、".join(Office.objects.order_by("code").values_list("name", flat=True)) or "（无）"
        raise CommandError(f"办事处“{name}”不存在；现有：{known}")
    return office


class Command(BaseCommand):
    @property
    def help(self):  # the kinds the apps registered (common.sheets)
        return f"导入{kinds_text()}表：文件全部无误才写入；--dry-run 只检查。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=importable_kinds())
        parser.add_argument("file", nargs="?", help=".xlsx、.xls 或 .csv（UTF-8、GBK 或 UTF-16）")
        parser.add_argument("--office", required=True, help="办事处名称，如 明港办事处")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--template", metavar="OUT.xlsx", help="写出该类表格的模板")
        parser.add_argument("--problems", metavar="OUT.xlsx", help="有错误时，把加了“错误说明”列的原表写到这里")

    def handle(self, *args, kind, file, office, dry_run, template, problems, verbosity, **options):
        office = office_named(office)
        sheet = sheet_class(kind)(office=office)
        if template:
            sheet.write_template(template)
            self.stdout.write(f"已写出模板：{template}")
            if not file:
                return
        if not file:
            raise CommandError("请给出要导入的文件，或用 --template 写出模板")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        data = path.read_bytes()
        try:
            measure(data, path.name)
        except xlsx.FileTooBig as e:
            raise CommandError(f"{e}（上限由 LIANHU_UPLOAD_MAX_BYTES、LIANHU_UPLOAD_MAX_ROWS 设定）") from None
        table = xlsx.read_table(data, path.name, sheet.columns, sheet.kind)
        operator = getpass.getuser()
        with tqdm(total=len(table.rows) or 1, unit="行", file=sys.stderr, disable=None if verbosity else True,
                  dynamic_ncols=True) as bar:

            shown = {"phase": None}

            def progress(done: int, total: int, phase: str) -> None:
                if shown["phase"] != phase:
                    shown["phase"] = phase
                    bar.reset(total=total or 1)
                    bar.set_description(phase)
                bar.update(done - bar.n)

            outcome = xlsx.import_file(
                sheet, data, path.name, apply=not dry_run, progress=progress, table=table,
                audit=lambda o: audit_import(o, office=office, actor=None, source=f"command ({operator})"),
            )
        self.report(outcome, table)
        if outcome.errors:
            if problems:
                xlsx.write_annotated(problems, data, table, outcome.problems)
                self.stdout.write(f"已写出问题清单：{problems}")
            raise CommandError(f"{len(outcome.errors)} 个错误，没有写入任何数据")
        if dry_run:
            self.stdout.write(self.style.SUCCESS("检查通过（--dry-run：没有写入任何数据）"))
        else:
            self.stdout.write(self.style.SUCCESS("已导入"))

    def report(self, outcome: xlsx.Outcome, table: xlsx.Table) -> None:
        if outcome.sheet:
            self.stdout.write(f"工作表“{outcome.sheet}”，表头在第 {table.header_row} 行，{outcome.rows:,} 行数据")
        for line in outcome.summary_lines():
            self.stdout.write("  " + line)
        for note in outcome.notes:
            self.stdout.write("  " + note)
        if outcome.ignored:
            self.stdout.write("  未导入的列：" + "、".join(outcome.ignored))
        for u in outcome.updates[:UPDATE_PRINT_LIMIT]:
            self.stdout.write(f"  更新 第 {u.row} 行 {u.record}：{u.change}")
        if len(outcome.updates) > UPDATE_PRINT_LIMIT:
            self.stdout.write(f"  ……更新的行只列出前 {UPDATE_PRINT_LIMIT} 行")
        for p in outcome.problems[:PRINT_LIMIT]:
            label = "错误" if p.level == "error" else "提醒"
            self.stdout.write(f"{label} {p.where}：{p.message}")
        if len(outcome.problems) > PRINT_LIMIT:
            self.stdout.write(f"……另有 {len(outcome.problems) - PRINT_LIMIT} 个问题未列出（用 --problems 写出全部）")
