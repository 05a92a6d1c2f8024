"""Create the local secrets file (data/local.env) with the Django secret key and the personal-data key."""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

# How each missing key is generated. A key already in the file is never replaced: a new
# LIANHU_DATA_KEY would leave every encrypted ID number and phone unreadable.
KEYS = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "LIANHU_DATA_KEY": lambda: secrets.token_urlsafe(48),
}


class Command(BaseCommand):
    help = "生成本机密钥文件（DJANGO_SECRET_KEY 与 LIANHU_DATA_KEY），已有的密钥不会被覆盖。"
    # Runs before anything else is set up (no database, possibly no secret key yet): skip the checks.
    requires_system_checks = []

    def handle(self, *args, **options):
        path = Path(settings.LOCAL_ENV_FILE)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        present = _keys_with_values(lines)
        added = []
        for key, generate in KEYS.items():
            if key in present:
                continue
            value = generate()
            # settings.py keeps the first occurrence of a key, so an empty "KEY=" line is filled in, not shadowed.
            for i, line in enumerate(lines):
                if line.partition("=")[0].strip() == key:
                    lines[i] = f"{key}={value}"
                    break
            else:
                lines.append(f"{key}={value}")
            added.append(key)
            if os.environ.get(key):
                self.stderr.write(self.style.WARNING(
                    f"注意：环境变量 {key} 已设置，运行时以环境变量为准，文件中新生成的值暂不生效。"
                ))

        if added:
            _write_private(path, "\n".join(lines) + "\n")
            self.stdout.write(self.style.SUCCESS(f"已生成 {'、'.join(added)}，写入 {path}"))
        else:
            os.chmod(path, 0o600)
            self.stdout.write(f"{path} 中已有全部密钥，未做修改。")
        self.stdout.write(
            "请妥善保管并备份此文件（权限 600，切勿提交到代码仓库或发给他人）："
            "丢失 LIANHU_DATA_KEY 后，已加密的身份证号、电话等个人信息将无法解密。"
        )


def _keys_with_values(lines: list[str]) -> set[str]:
    """Keys that have a non-empty value, read the way settings.py reads the file."""
    found = set()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep and value.strip():
            found.add(key.strip())
    return found


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)
