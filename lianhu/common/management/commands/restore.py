"""python manage.py restore FILE: put a backup back (lianhu.common.backup)."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lianhu.common.backup import BackupError, check_backup, restore_backup


class Command(BaseCommand):
    help = ("用备份替换当前数据库：先核对备份完整、数据库类型和密钥一致，再自动备份当前数据，然后恢复并迁移到当前版本。")

    def add_arguments(self, parser):
        parser.add_argument("file", help="备份文件（.lhbak，旁边须有同名 .json 说明文件）")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
        parser.add_argument("--no-safety-backup", action="store_true", help="恢复前不备份当前数据（不建议）")

    def handle(self, *args, file, yes, no_safety_backup, **options):
        path = Path(file)
        try:
            manifest = check_backup(path)
        except BackupError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"备份时间 {manifest['created_at']}，{manifest['bytes']:,} 字节，核对无误。")
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("恢复会替换当前全部数据：请加 --yes 确认")
            if input("恢复会替换当前全部数据，输入 yes 继续：").strip() != "yes":
                raise CommandError("已取消，未做任何改动")
        safety_dir = None if no_safety_backup else Path(settings.DATA_DIR) / "backups" / "before-restore"
        with tqdm(desc="恢复", unit="页", file=sys.stderr, disable=None) as bar:
            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)
            try:
                safety = restore_backup(path, safety_directory=safety_dir, progress=progress)
            except BackupError as e:
                raise CommandError(str(e)) from None
        if safety is not None:
            self.stdout.write(f"恢复前的数据已备份到 {safety.path}")
        self.stdout.write(self.style.SUCCESS("已恢复，并已迁移到当前版本。"))
