"""Security review, finding 1: nothing kept in clear lets an ID number be rebuilt without the key.

With the first 3 and last 4 characters of the number and the full birth date in clear, only the county
digits were unknown: every resident of an area came out with exactly one candidate. What is kept in
clear or shown without a reveal must leave at least 1,000 candidates (docs/security.md, "What stays
in clear"). These tests count the candidates an attacker holding the database file has, and read
every table after the product's own flows have written a person to it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from stdnum.cn import ric

from lianhu.audit.models import AuditEntry
from lianhu.common.masking import mask_id_number
from lianhu.common.testing import api_call, valid_id_number
from lianhu.members.models import PartyMember
from lianhu.org.models import Resident
from lianhu.org.tests.workbooks import households_file

pytestmark = pytest.mark.django_db

BORN = dt.date(1958, 7, 23)
REGION = "410184"
NUMBER = valid_id_number(BORN.strftime("%Y%m%d"), region=REGION, serial=517)
MEMBER_BORN = dt.date(1961, 11, 29)
MEMBER_NUMBER = valid_id_number(MEMBER_BORN.strftime("%Y%m%d"), region=REGION, serial=238)


def candidates(masked: str, *, region: str, birth_year: int, birth_date: dt.date | None = None) -> int:
    """The check-digit-valid 18-digit numbers that fit what is in clear, for an attacker who knows
    even the 6-digit region (the worst case: the whole area is one county). `birth_date` is what
    the old scheme kept in clear."""
    known = {i: c for i, c in enumerate(masked) if c != "*"}
    assert len(masked) == 18 and all(region[i] == c for i, c in known.items() if i < 6)
    days = [birth_date] if birth_date else [
        dt.date(birth_year, 1, 1) + dt.timedelta(days=n) for n in range((dt.date(birth_year + 1, 1, 1)
                                                                       - dt.date(birth_year, 1, 1)).days)]
    found = 0
    for day in days:
        body14 = f"{region}{day:%Y%m%d}"
        if any(body14[i] != c for i, c in known.items() if i < 14):
            continue
        for serial in range(1000):
            number = f"{body14}{serial:03d}"
            if any(number[i] != c for i, c in known.items() if 14 <= i < 17):
                continue
            if 17 in known and ric.calc_check_digit(number + "0") != known[17]:
                continue
            found += 1
    return found


def test_the_counting_bites_on_what_the_old_scheme_kept_in_clear():
    old_mask = NUMBER[:3] + "*" * 11 + NUMBER[-4:]
    assert candidates(old_mask, region=REGION, birth_year=BORN.year, birth_date=BORN) == 1


def test_what_a_resident_and_a_member_keep_in_clear_leaves_at_least_a_thousand_candidates(world, client_for):
    resident = resident_made_through_the_api(world, client_for)
    member = member_made_through_the_form(world, client_for)
    for person, number in ((resident, NUMBER), (member, MEMBER_NUMBER)):
        clear = type(person).objects.values("id_number_masked", "birth_year").get(pk=person.pk)
        assert clear["id_number_masked"] == mask_id_number(number) == number[:3] + "*" * 13 + number[-2:]
        assert candidates(clear["id_number_masked"], region=REGION, birth_year=clear["birth_year"]) >= 1000


def resident_made_through_the_api(world, client_for) -> Resident:
    created = api_call(client_for(world.secretary_a), "post", "/residents", {
        "household": world.household_a.pk, "name": "张桂兰", "gender": "F", "birth_date": BORN.isoformat(),
        "relation": "配偶", "id_number": NUMBER, "phone": "13912340000"})
    assert created.status_code == 201, created.content
    resident = Resident.objects.get(pk=created.json()["id"])
    assert resident.birth_date == BORN and resident.birth_year == BORN.year and resident.reveal_id_number() == NUMBER
    # A change goes through the update service, whose audit entry keeps the values before and after.
    patched = api_call(client_for(world.secretary_a), "patch", f"/residents/{resident.pk}",
                       {"birth_date": (BORN + dt.timedelta(days=1)).isoformat()})
    assert patched.status_code == 200, patched.content
    patched = api_call(client_for(world.secretary_a), "patch", f"/residents/{resident.pk}",
                       {"birth_date": BORN.isoformat()})
    assert patched.status_code == 200
    return resident


def member_made_through_the_form(world, client_for) -> PartyMember:
    response = client_for(world.office_admin).post(reverse("members:member_create"), {
        "branch": world.branch_a.pk, "name": "刘振华", "gender": "M", "birth_date": MEMBER_BORN.isoformat(),
        "joined_party_on": "1985-06-01", "capacity": 10, "id_number": MEMBER_NUMBER, "phone": "13912340001"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    member = PartyMember.objects.get(name="刘振华")
    assert member.birth_date == MEMBER_BORN and member.birth_year == MEMBER_BORN.year
    return member


def spellings(day: dt.date) -> set[str]:
    return {f"{day:%Y-%m-%d}", f"{day:%Y%m%d}", f"{day:%Y.%m.%d}", f"{day:%Y/%m/%d}",
            f"{day.year}年{day.month}月{day.day}日", f"{day:%Y年%m月%d日}"}


# Columns that hold only sealed values (AES-GCM tokens or files) or keyed hashes: without the key they
# say nothing; `content` is an import's uploaded file, sealed whole.
SEALED_COLUMNS = ("_cipher", "_hash", "content", "key_hash", "password", "session_data")


def test_no_table_keeps_a_birth_date_or_more_of_a_number_than_its_mask(world, client_for):
    """Every flow that writes a person (API, form, import with problems, export, look-up, reveal) and
    then every column of every table, read as the database file holds it."""
    resident = resident_made_through_the_api(world, client_for)
    member_made_through_the_form(world, client_for)
    secretary = client_for(world.secretary_a)
    # An import whose rows disagree with the stored birth date and with their own ID numbers: its
    # problem list is kept in the job's row.
    bad = households_file(dict(branch="甲村", grid="甲村一网格", address="甲村一组99号", name="张桂兰",
                               relation="户主", gender="女", birth_date="1958年7月", id_number=NUMBER[:-1] + "0"),
                          dict(name="王小军", relation="子女", gender="男", birth_date=BORN.isoformat(),
                               id_number=valid_id_number("19580724", region=REGION)))
    secretary.post(reverse("transfer:upload", args=["households"]), {"file": SimpleUploadedFile(f"{NUMBER}.xlsx", bad)})
    secretary.get(reverse("org:household_list"), {"q": NUMBER})  # an audited look-up
    secretary.get(reverse("transfer:export", args=["households"]), {"q": NUMBER})
    secretary.post(reverse("org:reveal", args=["resident", resident.pk, "birth_date"]))
    secretary.post(reverse("org:reveal", args=["resident", resident.pk, "id_number"]))
    assert AuditEntry.objects.filter(action="reveal").count() == 2

    secrets = {*spellings(BORN), *spellings(MEMBER_BORN), NUMBER[6:14], MEMBER_NUMBER[6:14],
               NUMBER[:-1], MEMBER_NUMBER[:-1], NUMBER[-4:] + "", NUMBER[3:6] + NUMBER[6:10]}
    leaks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            names = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for name, value in zip(names, row):
                    if value is None or any(s in name for s in SEALED_COLUMNS):
                        continue
                    text = value.decode("utf-8", "replace") if isinstance(value, (bytes, memoryview)) else str(value)
                    leaks += [(table, name, s) for s in secrets if s in text]
    assert not leaks, leaks


def test_the_edit_forms_never_show_the_birth_date_only_its_year(world, client_for):
    resident = resident_made_through_the_api(world, client_for)
    page = client_for(world.secretary_a).get(
        reverse("org:resident_edit", args=[world.household_a.pk, resident.pk])).content.decode()
    assert "现为 1958 年生；留空则不变" in page
    assert not any(s in page for s in spellings(BORN))
    member = member_made_through_the_form(world, client_for)
    page = client_for(world.office_admin).get(reverse("members:member_edit", args=[member.pk])).content.decode()
    assert "现为 1961 年生；留空则不变" in page and not any(s in page for s in spellings(MEMBER_BORN))


def test_a_blank_birth_date_on_an_edit_form_keeps_the_stored_one_and_a_typed_one_replaces_it(world, client_for):
    resident = resident_made_through_the_api(world, client_for)
    client = client_for(world.secretary_a)
    url = reverse("org:resident_edit", args=[world.household_a.pk, resident.pk])
    form = {"name": "张桂兰", "gender": "F", "relation": "配偶", "birth_date": ""}
    assert client.post(url, form).status_code == 302
    resident.refresh_from_db()
    assert resident.birth_date == BORN and resident.name == "张桂兰"
    assert client.post(url, {**form, "birth_date": "1958-07-24"}).status_code == 302
    resident.refresh_from_db()
    assert resident.birth_date == dt.date(1958, 7, 24) and resident.birth_year == 1958


def test_lists_and_the_api_give_the_birth_year_and_the_age_this_year_never_the_date(world, client_for):
    resident = resident_made_through_the_api(world, client_for)
    client = client_for(world.secretary_a)
    item = api_call(client, "get", f"/residents/{resident.pk}").json()
    this_year = dt.date.today().year
    assert (item["birth_year"], item["age"]) == (1958, this_year - 1958)
    assert not any(s in io.StringIO(str(item)).read() for s in spellings(BORN))
    page = client.get(reverse("org:household_detail", args=[world.household_a.pk])).content.decode()
    assert f"{this_year - 1958} 岁" in page and not any(s in page for s in spellings(BORN))


def test_every_write_keeps_its_before_and_after_with_personal_data_masked(world, client_for):
    resident = resident_made_through_the_api(world, client_for)
    created = AuditEntry.objects.get(action="create", object_id=str(resident.pk), object_type="org.resident")
    values = dict(created.detail["values"])
    assert values["姓名"] == "张**" and values["身份证号"] == mask_id_number(NUMBER)  # a person's name masked too
    assert values["出生日期"] == "1958年" and values["联系电话"] == "139****0000"
    first, back = AuditEntry.objects.filter(action="update", object_id=str(resident.pk)).order_by("pk")
    # A day's change of the birth date shows as the year on both sides: the date itself is never logged.
    assert first.detail["changes"] == [["出生日期", "1958年", "1958年"]]
    api_call(client_for(world.secretary_a), "patch", f"/residents/{resident.pk}",
             {"id_number": MEMBER_NUMBER, "sensitive_tags": ["低保"], "relation": "子女"})
    last = AuditEntry.objects.filter(action="update", object_id=str(resident.pk)).latest("pk")
    assert last.detail["changes"] == [["与户主关系", "配偶", "子女"],
                                      ["身份证号", mask_id_number(NUMBER), mask_id_number(MEMBER_NUMBER)],
                                      ["敏感标签", "", "***"]]
    assert "与户主关系：配偶 → 子女" in last.summary and "低保" not in str(last.detail)

    member = member_made_through_the_form(world, client_for)
    client_for(world.office_admin).post(reverse("members:member_exempt", args=[member.pk]), {
        "reason": "老", "since": "2026-01-05", "approved_by": "支部委员会", "post": "政策宣传岗"})
    exempt = AuditEntry.objects.get(action="exempt", object_id=str(member.pk))
    assert exempt.detail["changes"] == [["状态", "联户", "丧失联户能力"], ["不能联户原因", "", "老（年老体衰）"],
                                        ["认定日期", "", "2026-01-05"], ["认定人", "", "支部委员会"],
                                        ["设岗定责", "", "政策宣传岗"]]
