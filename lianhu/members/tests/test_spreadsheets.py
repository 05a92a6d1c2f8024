"""The members file (党员名册) and the links file (联系关系表)."""

import datetime as dt
import io

import pytest

from lianhu.common import xlsx
from lianhu.common.testing import valid_id_number
from lianhu.members.tests.factories import make_link, make_member
from lianhu.org.tests.factories import make_household
from lianhu.org.tests.workbooks import xlsx_bytes
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.members.sheets import LinkSheet, MemberSheet

pytestmark = pytest.mark.django_db

MEMBER_HEADER = [c.header for c in MemberSheet.columns]
LINK_HEADER = [c.header for c in LinkSheet.columns]
NEW_ID = valid_id_number("19700505", serial=71)


def member_row(**values) -> list:
    return [values.get(c.key, "") for c in MemberSheet.columns]


def link_row(**values) -> list:
    return [values.get(c.key, "") for c in LinkSheet.columns]


def run(world, cls, header, *rows, user="secretary_a", apply=True) -> xlsx.Outcome:
    sheet = cls(office=world.office, user=getattr(world, user) if user else None)
    data = xlsx_bytes([header, *rows], title="党员名册")
    return xlsx.import_file(sheet, data, "a.xlsx", apply=apply)


def members(world, *rows, **kw):
    return run(world, MemberSheet, MEMBER_HEADER, *rows, **kw)


def links(world, *rows, **kw):
    return run(world, LinkSheet, LINK_HEADER, *rows, **kw)


def errors(outcome) -> list[str]:
    return [f"{p.row}{p.letter}:{p.message}" for p in outcome.errors]


def export(world, cls, *, masked=False, user="office_admin") -> bytes:
    sheet = cls(office=world.office, user=getattr(world, user))
    buffer = io.BytesIO()
    sheet.write_export(buffer, sheet.export_queryset(), masked=masked)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Members


def test_a_new_member_is_created_sealed_with_gender_from_his_id_number(world):
    outcome = members(world, member_row(branch="甲村", grid="甲村一网格", name="周新民", id_number=NEW_ID,
                                        phone="138 0013 8001", joined_party_on="1995.7.1", capacity="8户"))
    assert outcome.applied, errors(outcome)
    m = PartyMember.objects.get(name="周新民")
    assert (m.gender, m.birth_date, m.capacity, m.status) == ("M", dt.date(1970, 5, 5), 8, MemberStatus.ACTIVE)
    assert m.reveal_id_number() == NEW_ID and m.reveal_phone() == "13800138001" and m.name_initials == "zxm"


def test_a_member_registered_with_his_old_15_digit_number_takes_the_new_one(world):
    from lianhu.common.validators import id_key

    old = "410173700505713"
    members(world, member_row(branch="甲村", name="周老党", gender="男", id_number=old))
    outcome = members(world, member_row(branch="甲村", name="周老党", id_number=id_key(old)))
    assert outcome.counts["党员"] == {"created": 0, "updated": 1, "unchanged": 0}, errors(outcome)
    assert outcome.updates == [xlsx.Update(3, "党员 周老党", "身份证号")]
    m = PartyMember.objects.get(name="周老党")
    assert m.reveal_id_number() == id_key(old) and len(m.id_number_masked) == 18
    assert members(world, member_row(branch="甲村", name="周老党", id_number=old)).changes == 0


def test_a_joining_date_before_birth_is_refused_and_one_before_eighteen_questioned(world):
    born_1970 = dict(branch="甲村", name="周新民", id_number=NEW_ID)  # born 1970-05-05, by his ID number
    outcome = members(world, member_row(**born_1970, joined_party_on="1969.7.1"))
    assert errors(outcome) == ["3F:入党日期（1969-07-01）早于出生日期"] and not outcome.applied
    outcome = members(world, member_row(**born_1970, joined_party_on="1987.7.1"))
    assert outcome.applied and [p.message for p in outcome.problems] == [
        "入党时未满 18 周岁，请核对入党日期和出生日期"]


def test_a_child_is_no_party_member_whichever_column_gives_his_age(world):
    child = valid_id_number("20150505", serial=71)
    by_id = members(world, member_row(branch="甲村", name="周小宝", id_number=child))
    by_date = members(world, member_row(branch="甲村", name="周小宝", gender="男", birth_date="2015-05-05"))
    assert errors(by_id) == ["3G:未满 18 周岁，不能登记为党员，请核对出生日期"]
    assert errors(by_date) == ["3E:未满 18 周岁，不能登记为党员，请核对出生日期"]
    assert not PartyMember.objects.filter(name="周小宝").exists()


@pytest.mark.parametrize("kind, cls, header", [("members", MemberSheet, MEMBER_HEADER), ("links", LinkSheet, LINK_HEADER)])
def test_a_households_file_uploaded_as_another_kind_is_refused_as_a_whole(world, kind, cls, header):
    from lianhu.org.sheets import HouseholdSheet

    sheet = HouseholdSheet(office=world.office, user=world.office_admin)
    buffer = io.BytesIO()
    sheet.write_export(buffer, sheet.export_queryset(), masked=False)
    outcome = xlsx.import_file(cls(office=world.office, user=world.office_admin), buffer.getvalue(), "户籍.xlsx",
                               apply=True)
    assert [(p.row, p.message) for p in outcome.errors] == [
        (0, f"这个文件是户籍（户与居民）表（有“自建房”“层数”“建成年份”等列），不是{cls.label}：请到“导入户籍（户与居民）”页面上传")]
    assert not outcome.applied and not PartyMember.objects.filter(name="王建国").exists()


@pytest.mark.parametrize("header", [["支部", "姓名", "身份证号", "备注"],
                                    ["支部", "姓名", "性别", "出生年月", "入党时间", "身份证号码", "联系电话", "家庭住址",
                                     "村民组", "备注"]])
def test_a_members_roster_with_columns_every_roster_has_is_no_households_file(world, header):
    row = {"支部": "甲村", "姓名": "周新民", "性别": "男", "身份证号": NEW_ID, "身份证号码": NEW_ID, "备注": "老党员",
           "村民组": "一组", "入党时间": "1995.7.1"}
    outcome = run(world, MemberSheet, header, [row.get(h, "") for h in header])
    assert outcome.applied, errors(outcome)
    assert PartyMember.objects.filter(name="周新民").exists()


def test_party_rosters_dates_to_the_month_are_taken_and_a_second_import_keeps_them(world):
    header = [h if h != "出生日期" else "出生年月" for h in MEMBER_HEADER]
    row = member_row(branch="甲村", name="周新民", id_number=NEW_ID, birth_date="1970.05", joined_party_on="2003.01")
    outcome = run(world, MemberSheet, header, row)
    assert outcome.applied, errors(outcome)
    assert [p.message for p in outcome.problems] == ["入党日期“2003.01”只写到月，按 2003-01-01 登记"]
    m = PartyMember.objects.get(name="周新民")
    assert (m.birth_date, m.joined_party_on) == (dt.date(1970, 5, 5), dt.date(2003, 1, 1))  # the day from his ID

    PartyMember.objects.filter(pk=m.pk).update(joined_party_on=dt.date(2003, 1, 20))  # the day, found in his file
    again = run(world, MemberSheet, header, row)
    assert again.changes == 0 and not again.problems
    assert run(world, MemberSheet, header, member_row(branch="甲村", name="周新民", joined_party_on="2004")).errors[0].message == (
        "入党日期“2004”只写到年：请写到月（如 2003-01）或日")  # "2003" would keep the registered day


def test_an_old_record_with_impossible_dates_does_not_block_its_own_export_from_coming_back(world):
    old = PartyMember(birth_date=dt.date(1970, 5, 5))  # sealed as the services would, then written behind their back
    PartyMember.objects.filter(pk=world.member_a.pk).update(birth_date_cipher=old.birth_date_cipher, birth_year=1970,
                                                           joined_party_on=dt.date(1968, 7, 1))
    data = export(world, MemberSheet)
    outcome = xlsx.import_file(MemberSheet(office=world.office, user=world.office_admin), data, "m.xlsx", apply=True)
    assert outcome.ok and outcome.changes == 0, errors(outcome)
    assert not any("入党" in p.message for p in outcome.problems)  # checked when a date changes, as the form does


def test_importing_the_members_export_twice_changes_nothing(world):
    data = export(world, MemberSheet)
    for _ in range(2):
        outcome = xlsx.import_file(MemberSheet(office=world.office, user=world.office_admin), data, "m.xlsx", apply=True)
        assert outcome.ok and outcome.changes == 0, errors(outcome)
        assert outcome.counts["党员"]["unchanged"] == PartyMember.objects.filter(branch__office=world.office).count()


def test_an_exempt_member_needs_a_reason_and_a_date_not_in_the_future(world):
    no_reason = members(world, member_row(branch="甲村", name="周新民", id_number=NEW_ID, status="丧失联户能力"))
    future = members(world, member_row(branch="甲村", name="周新民", id_number=NEW_ID, status="丧失联户能力",
                                       exempt_reason="病", exempt_since="2099-01-01"))
    reason_but_active = members(world, member_row(branch="甲村", name="周新民", id_number=NEW_ID, exempt_reason="老"))
    assert errors(no_reason) == ["3K:状态为“丧失联户能力”时必须填写不能联户原因"]
    assert errors(future) == ["3L:认定日期不能晚于今天"]
    assert errors(reason_but_active) == ["3K:状态为“联户”时不能填写不能联户原因"]


def test_marking_a_member_exempt_by_file_releases_his_households(world):
    outcome = members(world, member_row(branch="甲村", name="李建国", status="丧失联户能力", exempt_reason="老（年老体衰）",
                                        exempt_since="2026-11-01", exempt_approved_by="王书记", post="政策宣传岗"))
    assert outcome.applied, errors(outcome)
    assert outcome.counts["联系关系"]["ended"] == 1 and "转入“待安排联系党员”" in outcome.notes[0]
    link = LiaisonLink.objects.get(pk=world.link_a.pk)
    assert (link.ended_on, link.end_reason) == (dt.date(2026, 11, 1), "exempt")
    world.member_a.refresh_from_db()
    assert (world.member_a.status, world.member_a.exempt_reason, world.member_a.post) == ("exempt", "老", "政策宣传岗")


def test_the_preview_lists_the_members_a_file_updates_with_the_columns_it_changes(world):
    outcome = members(world, member_row(branch="甲村", name="李建国", capacity=9, post="政策宣传岗"),
                      member_row(branch="甲村", name="周新民", id_number=NEW_ID), apply=False)
    assert outcome.ok, errors(outcome)
    assert outcome.updates == [xlsx.Update(3, "党员 李建国", "设岗定责、可联系户数")]  # the new member is counted, not listed


def test_capacity_cannot_drop_below_the_households_already_linked(world):
    make_link(world.member_a, make_household(world.grid_a))
    outcome = members(world, member_row(branch="甲村", name="李建国", capacity=1))
    assert errors(outcome) == ["3O:可联系户数不能少于当前已联系的户数（2 户）"]


def with_id(member, id_number: str):
    member.set_id_number(id_number)
    member.save()
    return member


def test_a_member_registered_in_another_office_is_refused(world):
    with_id(world.member_other, NEW_ID)
    outcome = members(world, member_row(branch="甲村", name="孙志强", id_number=NEW_ID))
    assert errors(outcome) == ["3G:该身份证号无法在此登记，请联系办事处核实"]


def test_the_same_member_twice_is_refused_and_nothing_is_written(world):
    before = PartyMember.objects.count()
    row = member_row(branch="甲村", name="周新民", id_number=NEW_ID)
    outcome = members(world, row, row)
    assert errors(outcome) == ["4G:与第 3 行是同一个人（身份证号相同）：同一个人只能出现一次"]
    assert PartyMember.objects.count() == before


def test_one_new_name_twice_without_id_numbers_is_refused_so_the_file_can_come_back(world):
    outcome = members(world, member_row(branch="甲村", name="周新民", gender="男"),
                      member_row(branch="甲村", name="周新民", gender="男"), member_row(branch="乙社区", name="周新民", gender="男"),
                      user="office_admin")
    assert errors(outcome) == ["4C:与第 3 行同名且都没有身份证号：是同一人请删去一行，不是请填写身份证号"]
    assert not PartyMember.objects.filter(name="周新民").exists()


def test_another_branchs_members_do_not_exist_for_a_secretary(world):
    outcome = members(world, member_row(branch="乙社区", name="刘红梅"))
    assert errors(outcome) == ["3A:支部“乙社区”不存在（或不在您的管理范围内）"]


# ---------------------------------------------------------------------------------------------
# Links


def test_a_household_is_linked_by_member_name_within_its_branch(world):
    outcome = links(world, link_row(code=world.household_a2.code, member_name="李建国", started_on="2026.11.1"))
    assert outcome.applied, errors(outcome)
    link = LiaisonLink.objects.active().get(household=world.household_a2)
    assert (link.member, link.started_on, link.created_by) == (world.member_a, dt.date(2026, 11, 1), world.secretary_a)


def test_a_household_cannot_be_linked_to_an_exempt_member(world):
    outcome = links(world, link_row(code=world.household_a2.code, member_name="张福来"))
    assert errors(outcome) == ["3D:党员张福来当前状态为“丧失联户能力”，不能联系户"]
    assert not LiaisonLink.objects.filter(household=world.household_a2).exists()


def test_a_member_cannot_be_linked_beyond_his_capacity(world):
    small = make_member(world.branch_a, "陈满", capacity=1)
    extra = make_household(world.grid_a)
    outcome = links(world, link_row(code=world.household_a2.code, member_name="陈满"),
                    link_row(code=extra.code, member_name="陈满"))
    assert errors(outcome) == ["4D:党员陈满已联系 1 户（含本表安排的），达到可联系户数上限（1 户）"]
    assert not LiaisonLink.objects.filter(member=small).exists()


def test_households_a_member_gives_up_in_the_file_free_his_places(world):
    busy = make_member(world.branch_a, "陈满", capacity=1)
    make_link(busy, world.household_a2)
    outcome = links(world, link_row(code=world.household_a2.code, member_name="李建国"),
                    link_row(code=world.household_a.code, member_name="陈满", started_on="2026-11-02"))
    assert outcome.applied, errors(outcome)
    assert outcome.counts["联系关系"] == {"created": 2, "updated": 0, "unchanged": 0, "ended": 2}
    old = LiaisonLink.objects.get(pk=world.link_a.pk)
    assert (old.ended_on, old.end_reason) == (dt.date(2026, 11, 2), "reassigned")
    assert outcome.updates == [  # the rows that move a household, and from whom
        xlsx.Update(3, f"户 {world.household_a2.code}", "改由党员李建国联系（原为陈满）"),
        xlsx.Update(4, f"户 {world.household_a.code}", "改由党员陈满联系（原为李建国）")]


def test_a_member_of_another_branch_cannot_link_the_household(world):
    outcome = links(world, link_row(code=world.household_b.code, member_name="李建国", branch="甲村"), user="office_admin")
    assert errors(outcome) == ["3D:党员李建国属于甲村，与该户（乙社区）不属于同一支部"]


def test_a_member_named_by_id_number_in_another_branch_is_found_and_told_apart(world):
    world.member_a.set_id_number(NEW_ID)
    world.member_a.save()
    outcome = links(world, link_row(code=world.household_b.code, member_id_number=NEW_ID), user="office_admin")
    assert errors(outcome) == ["3D:党员李建国属于甲村，与该户（乙社区）不属于同一支部"]
    # Out of scope, he is not there at all: the secretary of 乙社区 learns nothing about him.
    outcome = links(world, link_row(code=world.household_b.code, member_id_number=NEW_ID), user="secretary_b")
    assert errors(outcome) == ["3E:没有这个身份证号的党员（或不在您的管理范围内）"]


def test_a_household_twice_in_the_links_file_is_refused(world):
    outcome = links(world, link_row(code=world.household_a2.code, member_name="李建国"),
                    link_row(code=world.household_a2.code, member_name="李建国"))
    assert errors(outcome) == ["4A:该户在第 3 行已出现：一户只能由一名党员联系"]


def test_the_links_export_reimports_with_zero_changes_even_masked(world):
    for masked in (False, True):
        data = export(world, LinkSheet, masked=masked)
        outcome = xlsx.import_file(LinkSheet(office=world.office, user=world.office_admin), data, "l.xlsx", apply=True)
        assert outcome.ok and outcome.changes == 0, errors(outcome)
        assert outcome.counts["联系关系"]["unchanged"] == 2  # household_a and household_b


def test_a_name_shared_by_two_members_needs_the_id_number(world):
    make_member(world.branch_a, "李建国", phone="13800138009")
    outcome = links(world, link_row(code=world.household_a2.code, member_name="李建国"))
    assert errors(outcome) == ["3D:支部中有 2 位名叫李建国的党员，请填写党员身份证号"]
    with_id(world.member_a, NEW_ID)
    found = links(world, link_row(code=world.household_a2.code, member_name="李建国", member_id_number=NEW_ID))
    assert found.applied, errors(found)
