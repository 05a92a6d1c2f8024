"""数据备份恢复: a sealed backup of the whole database comes back whole, and a bad one changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lianhu.common.backup import BackupError, check_backup, make_backup, restore_backup
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_backup_restores_what_was_there_and_keeps_what_it_replaced(world, tmp_path):
    made = make_backup(tmp_path)
    raw = made.path.read_bytes()
    assert world.office.name.encode() not in raw and world.resident_a.name.encode() not in raw  # sealed whole
    assert made.manifest["vendor"] in ("sqlite", "postgresql") and len(made.manifest["sha256"]) == 64

    Resident.objects.filter(pk=world.resident_a.pk).update(name="改过的名字")
    Household.objects.filter(pk=world.household_a2.pk).delete()  # unlinked: nothing protects it

    safety = restore_backup(made.path, safety_directory=tmp_path / "before")
    assert Resident.objects.get(pk=world.resident_a.pk).name == world.resident_a.name
    assert Household.objects.filter(pk=world.household_a2.pk).exists()
    assert Resident.objects.get(pk=world.resident_a.pk).reveal_id_number() == world.resident_a.reveal_id_number()

    # What the restore replaced is itself a backup: restoring it brings the change back.
    restore_backup(safety.path, safety_directory=None)
    assert Resident.objects.get(pk=world.resident_a.pk).name == "改过的名字"


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_backup_is_refused_and_nothing_changes(world, tmp_path, damage):
    made = make_backup(tmp_path)
    data = bytearray(made.path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 1
    else:
        del data[-100:]
    made.path.write_bytes(bytes(data))
    Resident.objects.filter(pk=world.resident_a.pk).update(name="改过的名字")
    with pytest.raises(BackupError, match="已损坏或被改动"):
        restore_backup(made.path, safety_directory=tmp_path / "before")
    assert Resident.objects.get(pk=world.resident_a.pk).name == "改过的名字"
    assert not (tmp_path / "before").exists()  # refused before anything was done


def test_a_backup_sealed_with_another_key_is_refused_before_anything_is_done(world, tmp_path):
    made = make_backup(tmp_path)
    with override_settings(LIANHU_DATA_KEY="another-key-of-at-least-thirty-two-characters"):
        with pytest.raises(BackupError, match="LIANHU_DATA_KEY 与当前不同"):
            check_backup(made.path)


def test_a_backup_whose_manifest_was_edited_to_match_still_cannot_be_opened(world, tmp_path):
    """The SHA-256 in the manifest only finds accidents: the sealing itself refuses a changed file."""
    import hashlib
    import json

    made = make_backup(tmp_path)
    data = bytearray(made.path.read_bytes())
    data[-20] ^= 1
    made.path.write_bytes(bytes(data))
    manifest_path = made.path.with_suffix(made.path.suffix + ".json")
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="无法用当前密钥解开"):
        restore_backup(made.path, safety_directory=None)


def test_the_commands_keep_the_last_backups_and_ask_before_restoring(world, tmp_path):
    out = io.StringIO()
    for _ in range(3):
        call_command("backup", "--dir", str(tmp_path), "--keep", "2", stdout=out)
    assert "已备份到" in out.getvalue()
    kept = sorted(tmp_path.glob("*.lhbak"))
    assert len(kept) == 2 and len(list(tmp_path.glob("*.lhbak.json"))) == 2
    with pytest.raises(CommandError, match="请加 --yes 确认"):
        call_command("restore", str(kept[-1]), stdout=io.StringIO())
    call_command("restore", str(kept[-1]), "--yes", "--no-safety-backup", stdout=out)
    assert "已恢复" in out.getvalue()


def test_the_worker_backs_up_once_a_day_and_keeps_the_last_ones(world, tmp_path, settings):
    import datetime as dt

    from django.utils import timezone

    from lianhu.common.backup import backup_if_due

    settings.LIANHU_BACKUP_DIR, settings.LIANHU_BACKUP_HOURS, settings.LIANHU_BACKUP_KEEP = tmp_path, 24, 2
    assert backup_if_due().startswith("backed up to")
    assert backup_if_due() == "not due"
    later = timezone.now() + dt.timedelta(hours=25)
    assert backup_if_due(now=later).startswith("backed up to")
    assert backup_if_due(now=later + dt.timedelta(hours=25)).startswith("backed up to")
    assert len(list(tmp_path.glob("*.lhbak"))) == 2
    settings.LIANHU_BACKUP_HOURS = 0
    assert backup_if_due(now=later + dt.timedelta(days=9)).startswith("off")
