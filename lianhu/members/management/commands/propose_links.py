"""Work out a link proposal (联系方案) for an office or one of its branches; optionally apply it."""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lianhu.accounts.models import User
from lianhu.common.text import format_table
from lianhu.members.proposals import DEFAULT_REBALANCE_MARGIN, proposal_apply, proposal_create
from lianhu.org.models import Branch, Office


class Command(BaseCommand):
    help = ("为办事处（或其中一个支部）生成联系方案：每个待安排的户分给本支部有空余名额、步行距离最近的党员。"
            "不加 --apply 时只生成方案，不改动任何联系关系。")

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="办事处名称，如 明港办事处")
        parser.add_argument("--branch", help="只为该支部生成（支部名称）")
        parser.add_argument("--rebalance", action="store_true", help="同时调整已有联系的户（默认保留现有联系）")
        parser.add_argument("--margin", type=int, default=DEFAULT_REBALANCE_MARGIN,
                            help=f"调整阈值（米）：步行距离缩短超过该值才换人，默认 {DEFAULT_REBALANCE_MARGIN}")
        parser.add_argument("--apply", action="store_true", help="生成后立即应用（全部成功或全部不做）")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--user", help="记入操作日志的用户名（默认记为“系统”）")

    def handle(self, *args, office, branch, rebalance, margin, apply, format, user, verbosity, **options):
        office_obj = Office.objects.filter(name=office).first()
        if office_obj is None:
            raise CommandError(f"没有名为“{office}”的办事处")
        branch_obj = None
        if branch:
            branch_obj = Branch.objects.filter(office=office_obj, name=branch).first()
            if branch_obj is None:
                raise CommandError(f"{office}没有名为“{branch}”的支部")
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"没有用户名为“{user}”的有效用户")
        if rebalance and margin < 0:
            raise CommandError("调整阈值不能为负数")
        branches = 1 if branch_obj else office_obj.branches.count()
        with tqdm(total=branches, desc="求解", unit="个支部", file=sys.stderr,
                  disable=verbosity == 0 or branches <= 1) as bar:
            proposal = proposal_create(office=office_obj, branch=branch_obj, actor=actor,
                                       rebalance_margin=margin if rebalance else None, progress=bar.update)
        applied = None
        if apply:
            try:
                applied = proposal_apply(proposal=proposal, actor=actor)
            except ValidationError as e:
                raise CommandError("方案未应用：" + "；".join(e.messages)) from None
        if format == "json":
            self.stdout.write(json.dumps(_as_json(proposal, applied), ensure_ascii=False, indent=2))
        else:
            self._write_text(proposal, applied)

    def _write_text(self, proposal, applied):
        t = proposal.summary["totals"]
        self.stdout.write(
            f"{proposal.branch or proposal.office}联系方案 #{proposal.pk}：待安排 {t['households_in_solve']} 户，"
            f"变动 {t['changes']} 处（新建联系 {t['new_links']}，更换联系党员 {t['moves']}），"
            f"无法安排 {t['unplaced']} 户；联系户总步行距离 {t['walk_before']} → {t['walk_after']} 米"
            f"（求解 {t['seconds']:.2f} 秒）。"
        )
        rows = [["支部", "户数", "待安排", "空余名额", "已安排", "无法安排", "缺少名额"]]
        rows += [[b["name"], str(b["households"]), str(b["unlinked"]), str(b["free"]), str(b["placed"]),
                  str(b["unplaced"]), str(b["missing"])] for b in proposal.summary["branches"]]
        for line in format_table(rows, right_from=1):
            self.stdout.write("  " + line)
        if t["no_coordinates"]:
            self.stdout.write(f"其中 {t['no_coordinates']} 户或其联系党员没有坐标，按同一网格优先安排。")
        if proposal.changes:
            self.stdout.write("变动清单：")
            rows = [["户编号", "住址", "原联系党员", "新联系党员", "步行距离（米）"]]
            for c in proposal.changes:
                walk = "无坐标" if c["walk_after"] is None else (
                    f"{_metres(c['walk_before'])} → {c['walk_after']}" if c["from"] else str(c["walk_after"]))
                rows.append([c["code"], c["address"], c["from_name"] or "—", c["to_name"], walk])
            for line in format_table(rows, free_last=True):
                self.stdout.write("  " + line)
        if applied is None:
            self.stdout.write(f"方案尚未应用：加 --apply 参数，或在网页上确认（/members/proposals/{proposal.pk}/）。")
        else:
            self.stdout.write(self.style.SUCCESS(f"方案已应用：{applied} 户的联系党员已按方案安排。"))


def _metres(value) -> str:
    return "?" if value is None else str(value)


def _as_json(proposal, applied) -> dict:
    summary = proposal.summary
    return {
        "proposal": proposal.pk,
        "office": proposal.office.name,
        "branch": proposal.branch.name if proposal.branch else None,
        "rebalance_margin": proposal.rebalance_margin,
        "status": proposal.status,
        "applied": applied,
        "totals": summary["totals"],
        "branches": summary["branches"],
        "members": [m for m in summary["members"] if m["changed"]],
        "changes": proposal.changes,
        "unplaced": summary["unplaced"],
    }
