"""Fill an empty database with the demo zone of the seed page (明港, 郑港 and 龙港 offices).

Each installed app's `demo.py` registers a seeder (`lianhu.common.seeders`). This command imports
them, runs them in dependency order, each on its own random stream of the seed, then creates the
demo accounts, all in one transaction: the database holds the whole demo or none of it.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from tqdm import tqdm

from lianhu.accounts.models import User
from lianhu.common import seeders
from lianhu.common.text import format_table
from lianhu.dashboard.selectors import liaison_figures, seed_sentence
from lianhu.demo.accounts import DEMO_PASSWORD, USERNAMES, create_demo_accounts
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
        taken = sorted(User.objects.filter(username__in=USERNAMES).values_list("username", flat=True))
        if taken:
            raise CommandError(f"用户名 {'、'.join(taken)} 已存在，无法创建演示账号；演示数据只能载入空数据库。")

        autodiscover_modules("demo")
        shared: dict = {}
        with ProgressBars(disable=verbosity == 0) as progress, transaction.atomic():
            for entry in seeders.ordered():
                ctx = seeders.SeedContext(seed=seed, rng=seeders.stream(seed, entry.name), shared=shared,
                                          progress=progress)
                entry.func(ctx)
            accounts = create_demo_accounts()

        self.stdout.write(self.style.SUCCESS(f"已载入演示数据：{Zone.objects.get()}（随机种子 {seed}）"))
        for office in Office.objects.order_by("code"):
            figures, _rows = liaison_figures(Branch.objects.filter(office=office))
            self.stdout.write(f"  {office.name}：{seed_sentence(figures)}。")
        self.stdout.write("\n演示账号（仅供演示，请勿在生产环境中使用）：")
        rows = [["用户名", "密码", "角色", "范围"]] + [[a.username, DEMO_PASSWORD, a.role, a.scope] for a in accounts]
        for line in format_table(rows, free_last=True):
            self.stdout.write("  " + line)
        if not settings.LIANHU_DEMO_MODE:
            self.stdout.write("演示账号只在演示模式（LIANHU_DEMO_MODE=1）下可以登录；make demo 会设置它。")
        else:
            self.stdout.write("演示模式下，区、办事处的演示账号登录时免输动态验证码（双因素认证）。")


class ProgressBars:
    """The seeders' progress as tqdm bars on stderr: a new bar each time the reported phase changes."""

    def __init__(self, *, disable: bool):
        self.disable = disable
        self.phase: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase = phase
            # No unit: the seeders count different things (households, members …).
            self.bar = tqdm(total=total, desc=phase, unit="", file=sys.stderr, disable=self.disable)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.phase = self.bar = None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
