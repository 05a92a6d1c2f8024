import stat
from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def env_file(settings, tmp_path):
    settings.LOCAL_ENV_FILE = tmp_path / "data" / "local.env"
    return settings.LOCAL_ENV_FILE


def run():
    out = StringIO()
    call_command("init_keys", stdout=out, stderr=StringIO())
    return out.getvalue()


def read(path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {key: value for key, _, value in pairs}


def test_first_run_creates_both_keys_in_a_file_only_the_owner_can_read(env_file):
    output = run()

    keys = read(env_file)
    assert set(keys) == {"DJANGO_SECRET_KEY", "LIANHU_DATA_KEY"}
    assert len(keys["DJANGO_SECRET_KEY"]) >= 50
    assert len(keys["LIANHU_DATA_KEY"]) >= 32  # settings.py refuses shorter data keys
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert str(env_file) in output and "妥善保管" in output


def test_second_run_keeps_the_keys_unchanged(env_file):
    run()
    before = env_file.read_text(encoding="utf-8")

    output = run()

    assert env_file.read_text(encoding="utf-8") == before
    assert "未做修改" in output


def test_it_adds_only_the_missing_key_and_keeps_everything_else(env_file):
    env_file.parent.mkdir(parents=True)
    env_file.write_text("# written by hand\nDJANGO_SECRET_KEY=kept-as-it-is\nDJANGO_DEBUG=0\n", encoding="utf-8")

    run()

    keys = read(env_file)
    assert keys["DJANGO_SECRET_KEY"] == "kept-as-it-is"
    assert keys["DJANGO_DEBUG"] == "0"
    assert len(keys["LIANHU_DATA_KEY"]) >= 32
    assert env_file.read_text(encoding="utf-8").startswith("# written by hand\n")


def test_an_empty_key_line_is_filled_in_rather_than_shadowed(env_file):
    # settings.py keeps the first occurrence of a key, so appending a second line would not help.
    env_file.parent.mkdir(parents=True)
    env_file.write_text("LIANHU_DATA_KEY=\n", encoding="utf-8")

    run()

    lines = env_file.read_text(encoding="utf-8").splitlines()
    assert [line.partition("=")[0] for line in lines] == ["LIANHU_DATA_KEY", "DJANGO_SECRET_KEY"]
    assert len(read(env_file)["LIANHU_DATA_KEY"]) >= 32


def test_the_system_check_refuses_to_run_without_the_data_key(settings):
    from lianhu.common.checks import data_key_is_set

    settings.LIANHU_DATA_KEY = ""
    assert [e.id for e in data_key_is_set(None)] == ["lianhu.E001"]
    settings.LIANHU_DATA_KEY = "x" * 40
    assert data_key_is_set(None) == []
