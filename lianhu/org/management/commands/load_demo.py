"""Fill an empty database with the demo zone of the seed page (明港, 郑港 and 龙港 offices)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lianhu.accounts.models import User
from lianhu.dashboard.selectors import liaison_figures, seed_sentence
from lianhu.common.text import format_table
from lianhu.org.demo import DEMO_PASSWORD, OFFICE_SPECS, build_plan, write_plan
from lianhu.org.models import Branch, Office, Zone


class Command(BaseCommand):
    help = "向空数据库载入演示数据：郑州航空港实验区明港、郑港、龙港三个办事处（明港的数字与报道一致）。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="随机种子：同一种子总是生成同样的数据（默认 1）")

    def handle(self, *args, seed: int, verbosity: int, **options):
        # Re-running must be safe (the Makefile runs it on every start), so an existing zone means "done".
        if Zone.objects.exists():
            self.stdout.write("数据库中已有区划数据，演示数据已经载入过（或已有真实数据），本次未做任何修改。")
            return
        quiet = verbosity == 0
        branch_count = sum(len(spec.branches) for spec in OFFICE_SPECS)
        with tqdm(total=branch_count, desc="生成演示数据", unit="个支部", file=sys.stderr, disable=quiet) as bar:
            plan = build_plan(seed, progress=lambda households: bar.update(1))
        usernames = [u.username for u in plan.users]
        taken = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        if taken:
            raise CommandError(f"用户名 {'、'.join(taken)} 已存在，无法创建演示账号；演示数据只能载入空数据库。")
        with tqdm(total=plan.household_count, desc="写入数据库", unit="户", file=sys.stderr, disable=quiet) as bar:
            accounts = write_plan(plan, progress=bar.update)

        self.stdout.write(self.style.SUCCESS(f"已载入演示数据：{plan.zone_name}（随机种子 {seed}）"))
        for office in Office.objects.order_by("code"):
            figures, _rows = liaison_figures(Branch.objects.filter(office=office))
            self.stdout.write(f"  {office.name}：{seed_sentence(figures)}。")
        self.stdout.write("\n演示账号（仅供演示，请勿在生产环境中使用）：")
        rows = [["用户名", "密码", "角色", "范围"]] + [[a.username, DEMO_PASSWORD, a.role, a.scope] for a in accounts]
        for line in format_table(rows, free_last=True):
            self.stdout.write("  " + line)

