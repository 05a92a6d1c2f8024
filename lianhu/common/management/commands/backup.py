"""python manage.py backup: a sealed backup of the whole database (lianhu.common.backup)."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lianhu.common.backup import BackupError, make_backup


class Command(BaseCommand):
    help = ("备份整个数据库（SQLite 在线备份或 pg_dump），用 LIANHU_DATA_KEY 加密，并写出核对用的说明文件。"
            "密钥不在备份中：请把 data/local.env 与备份分开保管。")

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(Path(settings.DATA_DIR) / "backups"), help="备份目录（默认 data/backups）")
        parser.add_argument("--keep", type=int, default=30, help="只保留最近的几份（默认 30，0 表示全部保留）")

    def handle(self, *args, dir, keep, **options):
        with tqdm(desc="备份", unit="页", file=sys.stderr, disable=None) as bar:
            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)
            try:
                made = make_backup(Path(dir), keep=keep or None, progress=progress)
            except BackupError as e:
                raise CommandError(str(e)) from None
        m = made.manifest
        self.stdout.write(f"已备份到 {made.path}（{m['bytes']:,} 字节，SHA-256 {m['sha256'][:16]}…，密钥指纹 {m['key']}）")
