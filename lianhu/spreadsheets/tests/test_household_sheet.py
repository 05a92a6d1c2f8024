"""The households file: one row per resident, the way villages keep 户籍 sheets."""

import io
import itertools

import pytest

from lianhu.audit.models import AuditEntry
from lianhu.common import xlsx
from lianhu.common.testing import valid_id_number
from lianhu.org.tests.workbooks import households_file, xlsx_bytes
from lianhu.org.models import Household, Resident
from lianhu.org.sheets import HouseholdSheet

pytestmark = pytest.mark.django_db

HEAD = valid_id_number("19600101", serial=11)  # male
WIFE = valid_id_number("19620202", serial=22)  # female
SON = valid_id_number("19900303", serial=33)


def family(**extra) -> list[dict]:
    """A new household of three, the way a village types it: code blank, household cells on the first row."""
    head = dict(branch="甲村", grid="甲村一网格", address="甲村一组8号", villager_group="一组", self_built="是", floors=2,
                built_year=1998, name="王建国", relation="户主", gender="男", birth_date="1960.1.1", id_number=HEAD,
                phone="+86 139-1234-5678", care_tags="空巢老人", sensitive_tags="低保")
    head.update(extra)
    return [head,
            dict(name="李秀英", relation="妻", gender="女", birth_date="1962年2月2日", id_number=WIFE.lower()),
            dict(name="王军", relation="儿子", birth_date=32935, id_number=SON)]


def run(world, data: bytes, *, apply: bool = True, user="secretary_a", name: str = "户籍.xlsx") -> xlsx.Outcome:
    from lianhu.spreadsheets.jobs import audit_import

    sheet = HouseholdSheet(office=world.office, user=getattr(world, user) if user else None)
    return xlsx.import_file(sheet, data, name, apply=apply,
                            audit=lambda outcome: audit_import(outcome, office=world.office, actor=sheet.user))


def messages(outcome) -> list[str]:
    return [f"{p.row}{p.letter}:{p.message}" for p in outcome.errors]


def counts() -> tuple[int, int]:
    return Household.objects.count(), Resident.objects.count()


def test_a_new_household_is_created_with_a_code_its_residents_sealed_and_one_audit_entry(world):
    outcome = run(world, households_file(*family()))

    assert outcome.ok and outcome.applied, messages(outcome)
    assert outcome.counts == {"户": {"created": 1, "updated": 0, "unchanged": 0},
                              "居民": {"created": 3, "updated": 0, "unchanged": 0}}
    household = Household.objects.get(address="甲村一组8号")
    assert household.code.startswith(world.branch_a.code) and household.grid == world.grid_a
    assert (household.self_built, household.floors, household.built_year) == (True, 2, 1998)
    head, wife, son = household.residents.order_by("id")
    assert head.reveal_id_number() == HEAD and head.reveal_phone() == "13912345678"
    assert head.care_tags == ["空巢老人"] and head.reveal_sensitive_tags() == ["低保"]
    assert head.name_initials == "wjg" and head.phone_masked == "139****5678"
    assert (wife.relation, wife.gender, str(wife.birth_date)) == ("配偶", "F", "1962-02-02")
    assert wife.reveal_id_number() == WIFE  # the lower-case x became upper-case
    assert (son.relation, son.gender, str(son.birth_date)) == ("子女", "M", "1990-03-03")  # gender from the ID number
    entry = AuditEntry.objects.get(detail__import="households")
    assert entry.actor == world.secretary_a and entry.office == world.office
    assert entry.detail["counts"]["居民"]["created"] == 3


def test_the_preview_writes_nothing(world):
    before = counts()
    outcome = run(world, households_file(*family()), apply=False)
    assert outcome.ok and outcome.counts["居民"]["created"] == 3
    assert counts() == before and not AuditEntry.objects.filter(detail__import="households").exists()


def test_importing_the_same_village_sheet_twice_changes_nothing_the_second_time(world):
    data = households_file(*family())
    run(world, data)
    before = counts()

    outcome = run(world, data)  # still without 户编号: the household is found by its people's ID numbers

    assert outcome.ok, messages(outcome)
    assert outcome.changes == 0
    assert outcome.counts == {"户": {"created": 0, "updated": 0, "unchanged": 1},
                              "居民": {"created": 0, "updated": 0, "unchanged": 3}}
    assert counts() == before


def test_an_export_reimports_with_zero_changes(world):
    run(world, households_file(*family()))
    sheet = HouseholdSheet(office=world.office, user=world.office_admin)
    buffer = io.BytesIO()
    sheet.write_export(buffer, sheet.export_queryset(), masked=False)

    outcome = run(world, buffer.getvalue(), user="office_admin")

    assert outcome.ok, messages(outcome)
    assert outcome.changes == 0
    assert outcome.counts["户"]["unchanged"] == Household.objects.filter(branch__office=world.office).count()


def test_a_file_with_one_bad_row_writes_nothing_at_all(world):
    rows = family()
    rows.append(dict(code="", name="赵六", relation="户主", branch="甲村", grid="甲村一网格", address="甲村9号",
                     id_number="360426199101010072"))
    before = (counts(), AuditEntry.objects.count())

    outcome = run(world, households_file(*rows))

    assert not outcome.applied
    assert messages(outcome) == ["6M:身份证号 360*************72 校验位不正确"]
    assert (counts(), AuditEntry.objects.count()) == before


def test_an_id_number_typed_into_a_numeric_cell_is_rejected_with_its_row_column_and_reason(world):
    rows = family()
    rows[2]["id_number"] = int(SON)  # Excel keeps 15 digits
    outcome = run(world, households_file(*rows))

    [problem] = outcome.errors
    assert (problem.row, problem.letter, problem.column) == (5, "M", "身份证号")
    assert "存成了数字" in problem.message and "文本" in problem.message
    assert not Resident.objects.filter(name="王军").exists()


def test_the_same_person_twice_in_one_file_is_an_error_on_the_second_row(world):
    rows = family()
    rows.append(dict(rows[2]))
    outcome = run(world, households_file(*rows))
    assert messages(outcome) == ["6M:与第 5 行是同一个人（身份证号相同）：同一个人只能出现一次"]


def test_a_branch_or_grid_that_does_not_exist_is_a_row_error(world):
    bad_branch = run(world, households_file(*family(branch="丁村")))
    bad_grid = run(world, households_file(*family(grid="第九网格")))
    wrong_branch = run(world, households_file(*family(grid="乙社区一网格")), user="office_admin")
    assert messages(bad_branch) == ["3B:支部“丁村”不存在（或不在您的管理范围内）"]
    assert messages(bad_grid) == ["3C:网格“第九网格”不存在（或不在您的管理范围内）"]
    assert messages(wrong_branch) == ["3C:网格不属于所选支部"]


def test_another_branch_does_not_exist_for_a_secretary(world):
    outcome = run(world, households_file(*family()), user="secretary_b")
    assert messages(outcome) == ["3B:支部“甲村”不存在（或不在您的管理范围内）"]
    touching = run(world, households_file(dict(code=world.household_a.code, name="单雪梅", relation="户主")),
                   user="secretary_b")
    assert messages(touching) == [f"3A:户编号 {world.household_a.code} 不存在（或不在您的管理范围内）；新户请留空户编号，由系统编号"]
    assert Household.objects.filter(address="甲村一组8号").count() == 0


def test_an_id_number_registered_in_another_office_is_refused_without_saying_where(world):
    other = world.household_other.residents.get()
    rows = family()
    rows[2]["id_number"] = other.reveal_id_number()
    rows[2]["birth_date"] = ""
    outcome = run(world, households_file(*rows))
    assert messages(outcome) == ["5M:该身份证号无法在此登记，请联系办事处核实"]
    assert world.household_other.code not in messages(outcome)[0]


def test_an_id_number_registered_in_a_visible_household_names_it(world):
    rows = family()
    rows[2].update(id_number="360426199101010071", birth_date="")  # 单雪梅 of household A
    outcome = run(world, households_file(*rows))
    assert messages(outcome) == [f"5M:该身份证号已登记在 {world.household_a.code} 户（单雪梅，户主）：一个人只能登记在一户，请核对"]


def test_a_son_who_heads_a_new_household_in_the_file_does_not_make_it_his_parents(world):
    """分户: the son is registered as 子女 in his parents' household; the file has him head a new one."""
    run(world, households_file(*family()))
    parents = Household.objects.get(address="甲村一组8号")
    son_heads = [dict(branch="甲村", grid="甲村一网格", address="甲村二组1号", name="王军", relation="户主", id_number=SON),
                 dict(name="赵丽", relation="配偶", gender="女", birth_date="1991-01-01")]

    outcome = run(world, households_file(*son_heads))

    assert messages(outcome) == [f"3M:该身份证号已登记在 {parents.code} 户（王军，子女）：一个人只能登记在一户，"
                                 "如是分户（另立新户），请联系办事处办理"]
    parents.refresh_from_db()
    assert parents.address == "甲村一组8号" and parents.residents.count() == 3


def test_a_widow_who_now_heads_the_household_with_her_son_is_found_in_it(world):
    run(world, households_file(*family()))
    household = Household.objects.get(address="甲村一组8号")
    widow_heads = [dict(branch="甲村", grid="甲村一网格", address="甲村一组8号", name="李秀英", relation="户主", id_number=WIFE),
                   dict(name="王军", relation="子女", id_number=SON)]  # 王建国 has died: no row of his

    outcome = run(world, households_file(*widow_heads))

    assert outcome.ok and outcome.counts["户"] == {"created": 0, "updated": 0, "unchanged": 1}, messages(outcome)
    assert outcome.updates == [xlsx.Update(3, "居民 李秀英", "与户主关系")]
    assert household.residents.get(name="李秀英").relation == "户主"


def test_a_village_sheet_whose_heads_have_no_id_number_reimports_with_no_change(world):
    rows = family()
    rows[0]["id_number"] = ""
    data = households_file(*rows)
    first = run(world, data)
    assert first.applied and first.counts["户"]["created"] == 1, messages(first)
    before = counts()

    again = run(world, data)  # the household is found by its head's name as 户主 at the same address

    assert again.ok and again.changes == 0, (messages(again), again.counts)
    assert counts() == before
    moved = rows[0] | {"address": "甲村一组9号"}  # another address: another household, as far as anyone can tell
    assert run(world, households_file(moved), apply=False).counts["户"]["created"] == 1


def test_a_legacy_15_digit_number_and_the_18_digit_one_that_replaced_it_are_one_person(world):
    from lianhu.common.validators import id_key

    old = "410173600101113"  # 王老汉, registered with his first-generation card
    run(world, households_file(dict(branch="甲村", grid="甲村一网格", address="甲村三组1号", name="王老汉",
                                     relation="户主", id_number=old)))
    household = Household.objects.get(address="甲村三组1号")
    outcome = run(world, households_file(dict(code=household.code, name="王老汉", id_number=id_key(old))))

    assert outcome.ok and outcome.counts["居民"] == {"created": 0, "updated": 1, "unchanged": 0}, messages(outcome)
    assert outcome.updates == [xlsx.Update(3, "居民 王老汉", "身份证号")]  # the new card's number replaces the old
    (resident,) = household.residents.all()
    assert resident.reveal_id_number() == id_key(old) and len(resident.id_number_masked) == 18
    again = run(world, households_file(dict(code=household.code, name="王老汉", id_number=old)))
    assert again.changes == 0  # the old number again: the same person, nothing to change
    elsewhere = run(world, households_file(
        dict(branch="甲村", grid="甲村一网格", address="甲村三组2号", name="王小军", relation="户主", gender="男"),
        dict(name="王老汉", relation="父亲", id_number=id_key(old))))
    assert messages(elsewhere) == [f"4M:该身份证号已登记在 {household.code} 户（王老汉，户主）：一个人只能登记在一户，请核对"]


def test_stored_legacy_numbers_are_rehashed_once_and_a_person_stored_twice_is_left_for_a_person(world):
    from lianhu.common import crypto
    from lianhu.common.masking import mask_id_number
    from lianhu.common.models import rehash_legacy_id_numbers
    from lianhu.common.search_keys import id_number_hash
    from lianhu.common.validators import id_key

    def stored(name, number, old_hash):
        return Resident.objects.create(household=world.household_a, name=name, gender="M", relation="子女",
                                       id_number_cipher=crypto.encrypt(number), id_number_masked=mask_id_number(number),
                                       id_number_hash=old_hash)

    legacy, twice = "410173600101113", "410173600202224"
    before_upgrade = crypto.keyed_hash("id:" + legacy)  # as hashes were made before id_key
    one = stored("王老汉", legacy, before_upgrade)
    stored("李老汉", twice, crypto.keyed_hash("id:" + twice))
    both = stored("李老汉", id_key(twice), id_number_hash(id_key(twice)))

    assert rehash_legacy_id_numbers(Resident) == 1
    one.refresh_from_db()
    assert one.id_number_hash == id_number_hash(legacy) == id_number_hash(id_key(legacy)) != before_upgrade
    assert Resident.objects.filter(id_number_hash=both.id_number_hash).count() == 1  # not merged behind anyone's back
    assert rehash_legacy_id_numbers(Resident) == 0


def test_blank_cells_keep_what_is_stored_and_wu_clears_tags(world):
    run(world, households_file(*family()))
    code = Household.objects.get(address="甲村一组8号").code
    outcome = run(world, households_file(dict(code=code, name="王建国", id_number=HEAD, care_tags="无", phone="13800001111")))

    assert outcome.ok and outcome.counts == {"户": {"created": 0, "updated": 0, "unchanged": 1},
                                             "居民": {"created": 0, "updated": 1, "unchanged": 0}}
    head = Resident.objects.get(name="王建国")
    assert head.care_tags == [] and head.reveal_phone() == "13800001111"
    assert head.reveal_sensitive_tags() == ["低保"] and str(head.birth_date) == "1960-01-01"  # blank cells kept


def test_the_preview_lists_each_row_that_updates_a_record_with_the_columns_it_changes(world):
    run(world, households_file(*family()))
    code = Household.objects.get(address="甲村一组8号").code
    rows = [dict(code=code, address="甲村一组10号", name="王建国", id_number=HEAD, phone="13800001111", care_tags="无"),
            dict(code=code, name="李秀英", id_number=WIFE),
            dict(code=code, name="王军", id_number=SON, sensitive_tags="残疾人")]

    outcome = run(world, households_file(*rows), apply=False)

    assert outcome.ok, messages(outcome)
    assert outcome.updates == [xlsx.Update(3, f"户 {code}", "住址"), xlsx.Update(3, "居民 王建国", "联系电话、关爱标签"),
                               xlsx.Update(5, "居民 王军", "敏感标签")]  # 李秀英 changes nothing: not listed
    assert not any("13800001111" in u.change or "残疾人" in u.change for u in outcome.updates)  # names of columns only


def test_only_the_first_updates_by_row_are_listed_and_the_rest_never_worked_out(world):
    outcome = xlsx.Outcome(kind="households")
    worked_out = []

    def updates(start):
        for row in itertools.count(start, 2):
            worked_out.append(row)
            yield xlsx.Update(row, "居民", "姓名")

    outcome.list_updates(updates(3), updates(4))
    assert [u.row for u in outcome.updates] == list(range(3, 3 + xlsx.UPDATE_LIMIT))
    assert len(worked_out) <= xlsx.UPDATE_LIMIT + 2


def test_rows_of_one_household_must_agree(world):
    rows = family()
    rows[1]["address"] = "甲村一组9号"
    outcome = run(world, households_file(*rows))
    assert messages(outcome) == ["4D:与本户第 3 行的“甲村一组8号”不一致"]


def test_an_export_edited_on_one_row_of_a_household_takes_the_edit(world):
    """A household's cells repeat on each of its rows in an export; the clerk corrects the address on one."""
    from openpyxl import load_workbook

    run(world, households_file(*family()))
    household = Household.objects.get(address="甲村一组8号")
    sheet = HouseholdSheet(office=world.office, user=world.office_admin)
    buffer = io.BytesIO()
    sheet.write_export(buffer, sheet.export_queryset().filter(pk=household.pk), masked=False)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    ws = book["户籍"]
    assert [ws.cell(r, 4).value for r in (3, 4, 5)] == ["甲村一组8号"] * 3
    ws.cell(4, 4).value = "甲村一组18号"  # the wife's row
    ws.cell(5, 3).value = "甲村二网格"  # and the son's row names another grid: two edits, one per column
    edited = io.BytesIO()
    book.save(edited)

    outcome = run(world, edited.getvalue(), user="office_admin")

    assert outcome.ok and outcome.counts["户"]["updated"] == 1, messages(outcome)
    assert outcome.updates == [xlsx.Update(3, f"户 {household.code}", "网格、住址")]
    household.refresh_from_db()
    assert (household.address, household.grid.name) == ("甲村一组18号", "甲村二网格")
    ws.cell(5, 2).value = world.branch_a.code  # the branch by its code on one row, by its name on the others
    ws.cell(3, 4).value = "甲村一组28号"  # three addresses for one household: no telling which is right
    again = io.BytesIO()
    book.save(again)
    assert messages(run(world, again.getvalue(), user="office_admin", apply=False)) == [
        "4D:与本户第 3 行的“甲村一组28号”不一致", "5D:与本户第 3 行的“甲村一组28号”不一致"]


def test_household_cells_merged_down_the_rows_belong_to_each_row(world):
    rows = family()
    for r in rows[1:]:
        r.pop("relation")
    rows[1]["relation"], rows[2]["relation"] = "配偶", "子女"
    # The village merged 支部, 网格 and 住址 over the three rows of the household.
    outcome = run(world, households_file(*rows, merges=["B3:B5", "C3:C5", "D3:D5"]))
    assert outcome.ok, messages(outcome)
    assert Household.objects.get(address="甲村一组8号").residents.count() == 3


def test_a_row_without_code_that_is_not_a_head_needs_one(world):
    outcome = run(world, households_file(dict(name="王军", relation="子女", id_number=SON)))
    assert "户编号为空" in messages(outcome)[0]


def test_a_masked_export_cannot_be_reimported(world):
    sheet = HouseholdSheet(office=world.office, user=world.office_admin)
    buffer = io.BytesIO()
    sheet.write_export(buffer, sheet.export_queryset(), masked=True)
    outcome = run(world, buffer.getvalue(), user="office_admin")
    assert any("脱敏" in p.message for p in outcome.errors)


def test_a_masked_export_is_fit_for_a_wechat_group_and_a_full_one_keeps_numbers_as_text(world):
    from openpyxl import load_workbook

    run(world, households_file(*family()))
    sheet = HouseholdSheet(office=world.office, user=world.office_admin)
    books = {}
    for masked in (True, False):
        buffer = io.BytesIO()
        sheet.write_export(buffer, sheet.export_queryset().filter(address="甲村一组8号"), masked=masked)
        books[masked] = load_workbook(io.BytesIO(buffer.getvalue()))["户籍"]
    header = [c.value for c in books[True][2]]
    masked_head, full_head = ({h: c for h, c in zip(header, ws[3])} for ws in (books[True], books[False]))
    assert [masked_head[h].value for h in ("姓名", "出生日期", "身份证号", "联系电话", "敏感标签")] == [
        "王**", "1960年", HEAD[:3] + "*" * 13 + HEAD[-2:], "139****5678", "***"]
    assert masked_head["关爱标签"].value == "空巢老人"  # care, not health or money: kept
    assert (full_head["姓名"].value, full_head["身份证号"].value) == ("王建国", HEAD)
    assert full_head["身份证号"].number_format == full_head["联系电话"].number_format == "@"  # retyped, it stays text
    assert full_head["户编号"].number_format == "@" and full_head["出生日期"].number_format == "yyyy-mm-dd"


def test_a_warning_does_not_block_the_import(world):
    rows = family()
    rows[0]["gender"] = "女"  # the ID number says male
    outcome = run(world, households_file(*rows))
    assert outcome.applied
    assert [p.message for p in outcome.problems] == ["性别“女”与身份证号不一致，请核对"]


def test_a_birth_column_to_the_month_only_takes_the_day_from_the_id_number(world):
    """出生年月 as villages keep it: 1960.01 typed as text or as a number, 1962年2月; no ID number, no day."""
    from lianhu.org.tests.workbooks import HOUSEHOLD_HEADER, household_row

    header = ["出生年月" if h == "出生日期" else h for h in HOUSEHOLD_HEADER]
    head, wife, son = family(birth_date="1960.01")
    wife["birth_date"], son["birth_date"] = 1962.02, 1990.1  # number cells; 1990.1 is January or October
    data = xlsx_bytes([header, household_row(**head), household_row(**wife), household_row(**son)], title="甲村")
    outcome = run(world, data)

    assert outcome.applied, messages(outcome)
    assert [f"{p.row}{p.letter}:{p.message}" for p in outcome.problems] == [
        "5L:出生年月“1990.1”与身份证号中的出生日期不一致，已按身份证号登记，请核对"]
    born = {r.name: r.birth_date for r in Resident.objects.filter(household__address="甲村一组8号")}
    assert {name: str(day) for name, day in born.items()} == {
        "王建国": "1960-01-01", "李秀英": "1962-02-02", "王军": "1990-03-03"}

    unknown_day = dict(name="王小军", relation="孙子", gender="男", birth_date="2015年5月")
    refused = run(world, xlsx_bytes([header, household_row(**family(address="甲村一组9号", id_number="")[0]),
                                      household_row(**unknown_day)], title="甲村"))
    assert messages(refused) == ["4L:出生日期“2015年5月”只写到月，无法确定是哪一天：请写到日（如 1991-01-01），或填写身份证号"]

    # A registered resident, found by name in his household: a 出生年月 that fits his day keeps it.
    code = Household.objects.get(address="甲村一组8号").code
    kept = run(world, xlsx_bytes([header, household_row(code=code, name="王军", birth_date="1990.03")], title="甲村"))
    assert kept.applied and kept.changes == 0 and not kept.problems
    other = run(world, xlsx_bytes([header, household_row(code=code, name="王军", birth_date="1990.04")], title="甲村"))
    assert messages(other) == ["3L:出生日期“1990.04”只写到月，与已登记的出生日期不一致：请写到日（如 1991-01-01），或填写身份证号"]
    typos = [household_row(**family(address="甲村一组9号", birth_date=1960.13)[0]),  # no month 13: unreadable
             household_row(**dict(unknown_day, id_number="360426201505050001"))]  # a bad ID: its own error only
    assert [m.split("：")[0] for m in messages(run(world, xlsx_bytes([header, *typos], title="甲村")))] == [
        "3L:日期“1960.13”无法识别", "4M:身份证号 360*************01 校验位不正确"]


def test_a_second_head_of_household_is_questioned(world):
    # In a file a 户主 row without a code starts a new household; a second head comes with a code.
    assert run(world, households_file(*family())).applied
    code = Household.objects.get(address="甲村一组8号").code
    outcome = run(world, households_file(dict(code=code, name="王小明", relation="户主", gender="男")))
    assert outcome.applied and [f"{p.row}{p.letter}:{p.message}" for p in outcome.problems] == [
        "3J:本户将有 2 位户主（王小明、王建国）：一户只有一位户主，请核对与户主关系"]
    outcome = run(world, households_file(dict(code=code, name="王小明", relation="孙子")))  # put right: no question
    assert outcome.applied and outcome.problems == []
    outcome = run(world, households_file(dict(code=code, name="王建国", relation="父亲"),  # a new head takes over
                                         dict(code=code, name="王军", relation="户主")))
    assert outcome.applied and outcome.problems == []


def test_a_linked_household_cannot_move_to_another_branch(world):
    outcome = run(world, households_file(dict(code=world.household_a.code, branch="乙社区", grid="乙社区一网格")),
                  user="office_admin")
    assert messages(outcome) == ["3B:该户仍由本支部党员联系，请先解除联系再迁往其他支部"]


def test_a_grid_worker_imports_into_his_own_grid_only(world):
    mine = run(world, households_file(*family()), user="grid_worker_a")
    assert mine.ok, messages(mine)
    theirs = run(world, households_file(*family(grid="甲村二网格", address="甲村二组1号", id_number=valid_id_number(
        "19600101", serial=51))), user="grid_worker_a")
    assert "不存在（或不在您的管理范围内）" in messages(theirs)[0]


def test_the_command_line_import_needs_no_user_and_sees_the_whole_office(world):
    outcome = run(world, households_file(*family(branch="甲村")), user=None)
    assert outcome.applied and AuditEntry.objects.get(detail__import="households").actor is None




def test_unknown_columns_are_listed_not_imported(world):
    data = xlsx_bytes([["姓名", "身份证号", "户编号", "文化程度"], ["单雪梅", "360426199101010071", world.household_a.code, "小学"]])
    outcome = run(world, data)
    assert outcome.ok and outcome.ignored == ["文化程度"] and outcome.changes == 0


def test_every_problem_of_a_household_is_reported_at_once(world):
    rows = family(branch="丁村")
    rows[1]["id_number"] = "360426199101010072"
    rows.append(dict(code=world.household_a.code, name="单雪梅", id_number="360426199101010071", phone="1381234"))
    outcome = run(world, households_file(*rows))
    assert messages(outcome) == ["3B:支部“丁村”不存在（或不在您的管理范围内）", "4M:身份证号 360*************72 校验位不正确",
                                 "6N:电话号码 1381234 格式不正确：应为 11 位手机号或带区号的固定电话"]


def test_a_failure_half_way_through_writing_leaves_no_row_behind(world, monkeypatch):
    from lianhu.common import bulk

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "update_rows", disk_full)  # runs after the new households are inserted
    before = (counts(), AuditEntry.objects.count())
    with pytest.raises(RuntimeError):
        run(world, households_file(*family()))
    assert (counts(), AuditEntry.objects.count()) == before


def test_house_facts_are_checked_with_the_models_own_rules(world):
    outcome = run(world, households_file(*family(floors=61, built_year=1850, lng=1138.2)))
    assert messages(outcome) == ["3G:层数不能超过 60", "3H:建成年份应在 1900 年以后", "3Q:经度应在 -180 到 180 之间"]
