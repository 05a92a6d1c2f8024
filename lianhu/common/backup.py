"""Backups of the whole database, sealed, and their restore (等保 数据备份恢复).

A backup is the database as its own tool copies it (SQLite's online backup, PostgreSQL's pg_dump in
its custom format), sealed in chunks with the data key (`crypto.seal_stream`): names and addresses
are personal data too, and a backup travels. Beside it a manifest (JSON) records when it was made,
from which database, its SHA-256 and the key's fingerprint. A restore checks all of that before it
touches anything, keeps a backup of what it replaces, and then migrates: a backup made before the
last upgrade comes back in today's schema.

The key is not in the backup: keep LIANHU_DATA_KEY (data/local.env) apart from the backups. Without
it a backup opens to nothing; with another key the restore refuses to start.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils import timezone

from . import crypto

FORMAT = 1
SUFFIX = ".lhbak"


class BackupError(Exception):
    """A backup that cannot be made or restored, said in Chinese for the operator."""


@dataclass
class Made:
    path: Path
    manifest: dict


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _migrations(alias: str) -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest = {}
    for app, name in MigrationRecorder(connections[alias]).migration_qs.order_by("app", "name").values_list("app", "name"):
        latest[app] = name
    return latest


def _pg_env(settings_dict: dict) -> tuple[list[str], dict]:
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432),
            "-U", settings_dict.get("USER") or "postgres"]
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    return args, env


def _dump(alias: str, into: Path, progress=None) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        target = sqlite3.connect(into)
        try:
            def step(status, remaining, total):
                if progress:
                    progress(total - remaining, total)
            # In one step: a backup in steps starts again whenever another connection writes in between,
            # which a busy site may do for ever; one step holds a read transaction (WAL: writers go on).
            connection.connection.backup(target, pages=-1, progress=step)
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_env(connection.settings_dict)
        done = subprocess.run(["pg_dump", "-Fc", "--no-owner", *args, "-f", str(into), connection.settings_dict["NAME"]],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump 失败：{done.stderr.strip()[-500:]}")
    else:
        raise BackupError(f"不支持备份 {connection.vendor} 数据库")


def make_backup(directory: Path, *, alias: str = "default", keep: int | None = None, progress=None) -> Made:
    """Write a sealed backup and its manifest into `directory`; with `keep`, drop the oldest beyond it."""
    directory.mkdir(parents=True, exist_ok=True)
    vendor = connections[alias].vendor
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
    path = directory / f"lianhu-{stamp}{SUFFIX}"
    with tempfile.TemporaryDirectory(dir=directory) as work:
        raw = Path(work) / "dump"
        _dump(alias, raw, progress)
        with open(raw, "rb") as src, open(path, "wb") as dst:
            crypto.seal_stream(src, dst)
        os.chmod(path, 0o600)
        manifest = {
            "format": FORMAT, "vendor": vendor, "created_at": timezone.now().isoformat(),
            "bytes": path.stat().st_size, "sha256": _sha256(path), "key": crypto.key_fingerprint(),
            "migrations": _migrations(alias),
        }
    _manifest_path(path).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    if keep:
        for old in sorted(directory.glob(f"lianhu-*{SUFFIX}"))[:-keep]:
            old.unlink()
            _manifest_path(old).unlink(missing_ok=True)
    return Made(path, manifest)


def _manifest_path(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".json")


def check_backup(path: Path, *, alias: str = "default") -> dict:
    """The backup's manifest, once the file is whole and this database and key can take it; else BackupError."""
    manifest_path = _manifest_path(path)
    if not path.exists():
        raise BackupError(f"找不到备份文件 {path}")
    if not manifest_path.exists():
        raise BackupError(f"找不到备份说明文件 {manifest_path.name}：无法核对备份是否完整")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError("备份格式不是本版本能识别的格式")
    if _sha256(path) != manifest["sha256"]:
        raise BackupError("备份文件已损坏或被改动（SHA-256 与备份时不符），未做任何恢复")
    vendor = connections[alias].vendor
    if manifest["vendor"] != vendor:
        raise BackupError(f"这是 {manifest['vendor']} 数据库的备份，不能恢复到 {vendor} 数据库")
    if manifest["key"] != crypto.key_fingerprint():
        raise BackupError("备份时使用的 LIANHU_DATA_KEY 与当前不同：恢复后身份证号等个人信息将无法解密。"
                          "请使用备份时的密钥（data/local.env）后再恢复")
    return manifest


def restore_backup(path: Path, *, alias: str = "default", safety_directory: Path | None = None,
                   progress=None) -> Made | None:
    """Replace the database with the backup at `path`, after `check_backup`; first back up what is
    there into `safety_directory` (returned), unless None. Then migrate to today's schema."""
    from django.core.management import call_command

    check_backup(path, alias=alias)
    safety = make_backup(safety_directory, alias=alias) if safety_directory is not None else None
    connection = connections[alias]
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        raw = Path(work) / "dump"
        try:
            with open(path, "rb") as src, open(raw, "wb") as dst:
                crypto.open_stream(src, dst)
        except ImproperlyConfigured:
            raise BackupError("备份文件无法用当前密钥解开（已损坏或密钥不符），未做任何恢复") from None
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            source = sqlite3.connect(raw)
            try:
                if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("备份中的数据库未通过完整性检查，未做任何恢复")

                def step(status, remaining, total):
                    if progress:
                        progress(total - remaining, total)
                source.backup(connection.connection, pages=1024, progress=step)
            finally:
                source.close()
        else:
            args, env = _pg_env(connection.settings_dict)
            connection.close()  # pg_restore drops the tables this connection may hold locks on
            done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                   *args, "-d", connection.settings_dict["NAME"], str(raw)],
                                  env=env, capture_output=True, text=True)
            if done.returncode:
                raise BackupError(f"pg_restore 失败，数据库未改动：{done.stderr.strip()[-500:]}")
    call_command("migrate", database=alias, verbosity=0, interactive=False)
    return safety



def backup_if_due(*, now=None) -> str:
    """The worker's daily backup: one when the newest in LIANHU_BACKUP_DIR is older than
    LIANHU_BACKUP_HOURS (or there is none), keeping the last LIANHU_BACKUP_KEEP."""
    import datetime as dt

    from django.conf import settings

    hours = settings.LIANHU_BACKUP_HOURS
    if not hours:
        return "off (LIANHU_BACKUP_HOURS=0)"
    directory = Path(settings.LIANHU_BACKUP_DIR)
    newest = max((p.stat().st_mtime for p in directory.glob(f"lianhu-*{SUFFIX}")), default=None)
    now = now or timezone.now()
    if newest is not None and now - dt.datetime.fromtimestamp(newest, dt.timezone.utc) < dt.timedelta(hours=hours):
        return "not due"
    made = make_backup(directory, keep=settings.LIANHU_BACKUP_KEEP)
    return f"backed up to {made.path.name} ({made.manifest['bytes']:,} bytes)"
