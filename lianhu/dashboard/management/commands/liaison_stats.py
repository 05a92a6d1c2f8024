"""Print an office's liaison figures (党员联系户) as the briefing states them, or as JSON for scripts."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from lianhu.dashboard.selectors import LIAISON_KEYS, office_figures, seed_sentence
from lianhu.common.text import format_table
from lianhu.org.models import Office

COLUMNS = (
    ("支部", None),
    ("党员", "members"),
    ("联户党员", "members_linking"),
    ("不能联户", "members_exempt"),
    ("户数", "households"),
    ("已联系", "households_linked"),
    ("未联系", "households_unlinked"),
)


class Command(BaseCommand):
    help = "某办事处的联户统计：支部数、党员数、联户党员、不能联户党员、户数、已联系和未联系户数。"

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="办事处名称或区划代码，如 明港办事处")
        parser.add_argument("--format", choices=("text", "json"), default="text",
                            help="text：报道口径的一句话和分支部表（默认）；json：一个 JSON 对象")

    def handle(self, *args, **options):
        wanted = options["office"].strip()
        office = Office.objects.filter(Q(name=wanted) | Q(code=wanted)).first()
        if office is None:
            known = "、".join(Office.objects.values_list("name", flat=True)) or "（无）"
            raise CommandError(f"找不到办事处“{wanted}”。现有办事处：{known}")
        totals, rows = office_figures(office)
        if options["format"] == "json":
            self.stdout.write(json.dumps({key: totals[key] for key in LIAISON_KEYS}, ensure_ascii=False))
            return

        self.stdout.write(f"{office.name}：{seed_sentence(totals)}。\n")
        table = [[label for label, _ in COLUMNS] + ["提示"]]
        for row in rows:
            cells = [row.branch.name] + [str(getattr(row.figures, attr)) for _, attr in COLUMNS[1:]]
            table.append(cells + ["；".join(row.reasons)])
        table.append(["合计"] + [str(getattr(totals, attr)) for _, attr in COLUMNS[1:]] + [""])
        for line in format_table(table, right_from=1, free_last=True):
            self.stdout.write(line)

