"""The assignment solver alone, on the JSON format of docs/solver-format.md (for integrations and tests)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from lianhu.members.solver import ProblemError, solve_json


class Command(BaseCommand):
    help = "只运行联系分配求解器：读入 JSON（户、党员、可联系户数、坐标/米），输出分配结果。格式见 docs/solver-format.md。"

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="输入 JSON 文件（- 表示标准输入）")
        parser.add_argument("--output", required=True, help="输出 JSON 文件（- 表示标准输出）")
        parser.add_argument("--processes", type=int, default=1, help="并行进程数（默认 1）")

    def handle(self, *args, input, output, processes, **options):
        try:
            if input == "-":
                data = json.load(sys.stdin)
            else:
                with open(input, encoding="utf-8") as f:
                    data = json.load(f)
        except OSError as e:
            raise CommandError(f"无法读取输入文件：{e}") from None
        except json.JSONDecodeError as e:
            raise CommandError(f"输入不是有效的 JSON：{e}") from None
        try:
            result = solve_json(data, processes=max(1, processes))
        except ProblemError as e:
            raise CommandError(f"输入格式有误：{e}") from None
        text = json.dumps(result, ensure_ascii=False)
        if output == "-":
            self.stdout.write(text)
        else:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text + "\n")
