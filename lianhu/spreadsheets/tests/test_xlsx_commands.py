"""import_xlsx and export_xlsx: the operator's tools, with exit codes a script can rely on."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from lianhu.audit.models import AuditEntry
from lianhu.common import xlsx
from lianhu.common.testing import valid_id_number
from lianhu.org.tests.workbooks import households_file
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db

HEAD = valid_id_number("19600101", serial=11)


def command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def village_file(tmp_path):
    path = tmp_path / "户籍.xlsx"
    path.write_bytes(households_file(dict(branch="甲村", grid="甲村一网格", address="甲村一组8号", name="王建国",
                                          relation="户主", id_number=HEAD)))
    return path


def test_a_dry_run_of_a_clean_file_succeeds_and_writes_nothing(world, village_file):
    before = Resident.objects.count()
    out = command("import_xlsx", "households", str(village_file), "--office", world.office.name, "--dry-run")
    assert "居民：新增 1，更新 0，不变 0" in out and "检查通过" in out
    assert Resident.objects.count() == before


def test_a_clean_file_is_applied_and_audited_as_the_command(world, village_file):
    out = command("import_xlsx", "households", str(village_file), "--office", world.office.name)
    assert "已导入" in out and Household.objects.filter(address="甲村一组8号").exists()
    entry = AuditEntry.objects.get(detail__import="households")
    assert entry.actor is None and entry.detail["source"].startswith("command")
    again = command("import_xlsx", "households", str(village_file), "--office", world.office.name)
    assert "居民：新增 0，更新 0，不变 1" in again and "更新 第" not in again


def test_a_dry_run_lists_the_rows_that_update_and_the_columns_they_change(world, village_file, tmp_path):
    command("import_xlsx", "households", str(village_file), "--office", world.office.name)
    changed = tmp_path / "改电话.xlsx"
    changed.write_bytes(households_file(dict(name="王建国", relation="户主", id_number=HEAD, phone="13800001111")))
    out = command("import_xlsx", "households", str(changed), "--office", world.office.name, "--dry-run")
    assert "  更新 第 3 行 居民 王建国：联系电话" in out and "13800001111" not in out


def test_a_file_with_problems_fails_with_the_problem_list_and_the_annotated_sheet(world, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(households_file(dict(branch="丁村", grid="一网格", address="1号", name="王建国", relation="户主",
                                         id_number="360426199101010072")))
    problems = tmp_path / "problems.xlsx"
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 个错误，没有写入任何数据"):
        call_command("import_xlsx", "households", str(bad), "--office", world.office.name, "--problems",
                     str(problems), stdout=out, stderr=io.StringIO())
    assert "错误 第 3 行 B 列（支部）：支部“丁村”不存在（或不在您的管理范围内）" in out.getvalue()
    assert "错误 第 3 行 M 列（身份证号）：身份证号 360*************72 校验位不正确" in out.getvalue()
    assert load_workbook(problems).active.cell(2, 20).value == "错误说明"


def test_the_template_option_writes_the_template(world, tmp_path):
    path = tmp_path / "模板.xlsx"
    out = command("import_xlsx", "members", "--template", str(path), "--office", world.office.name)
    assert "已写出模板" in out
    book = load_workbook(path)
    assert book.sheetnames == ["党员", "选项", "填写说明"] and book["党员"]["A2"].value == "支部"


def test_an_unknown_office_names_the_known_ones(world):
    with pytest.raises(CommandError, match="办事处“丙办事处”不存在；现有：.*甲办事处"):
        command("import_xlsx", "households", "x.xlsx", "--office", "丙办事处")


@pytest.mark.parametrize("kind", ["households", "members", "links"])
def test_an_export_reimports_with_zero_changes(world, tmp_path, kind):
    path = tmp_path / f"{kind}.xlsx"
    out = command("export_xlsx", kind, str(path), "--office", world.office.name)
    assert "已导出" in out
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["masked"] is False and entry.office == world.office
    sheet = xlsx.sheet_class(kind)(office=world.office)
    assert sheet.export_count(sheet.export_queryset()) == entry.detail["rows"] > 0  # the progress bar's total
    result = command("import_xlsx", kind, str(path), "--office", world.office.name, "--dry-run")
    assert "新增 0，更新 0" in result and "结束 0" in result if kind == "links" else "新增 0，更新 0" in result
