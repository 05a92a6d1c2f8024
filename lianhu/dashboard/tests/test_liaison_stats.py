import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lianhu.members.services import member_mark_exempt

pytestmark = pytest.mark.django_db


def stats(office: str, fmt: str = "json") -> str:
    out = StringIO()
    call_command("liaison_stats", office=office, format=fmt, stdout=out)
    return out.getvalue()


def test_it_prints_one_json_object_with_the_office_figures(world):
    # 甲办事处: 甲村 (member_a linking household_a, household_a2 unlinked, one exempt member), 乙社区 (member_b).
    assert json.loads(stats("甲办事处")) == {
        "branches": 2,
        "members": 3,
        "members_linking": 2,
        "members_exempt": 1,
        "households": 3,
        "households_linked": 2,
        "households_unlinked": 1,
    }


def test_marking_a_member_exempt_releases_his_households(world):
    member_mark_exempt(member=world.member_a, reason="病", since=dt.date(2026, 11, 1), approved_by="王振国",
                       actor=world.office_admin)

    figures = json.loads(stats("甲办事处"))

    assert figures["members_linking"] == 1
    assert figures["members_exempt"] == 2
    assert figures["households_linked"] == 1
    assert figures["households_unlinked"] == 2


def test_the_office_can_be_named_by_its_code(world):
    assert json.loads(stats(world.office.code))["branches"] == 2


def test_text_format_prints_the_seed_sentence_and_a_row_per_branch_of_the_office(world):
    text = stats("甲办事处", fmt="text")

    assert "参与“党员联系户”的村（社区）支部共2个，共有2名党员参与联系服务群众2户" in text
    assert "甲村" in text and "乙社区" in text and "1 户无人联系" in text
    assert "丙村" not in text  # another office's branch


def test_an_unknown_office_is_a_command_error_in_chinese(world):
    with pytest.raises(CommandError, match="找不到办事处“明港办事处”"):
        stats("明港办事处")
