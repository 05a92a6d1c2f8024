"""ID-number look-ups are audited and limited per user and hour; no answer tells of a record out of scope.

Security review, finding 2: the resident search recovered full ID numbers from candidates as an advisor
(3 of 3 in 137 requests) and as a member, and a PATCH or an import said "already registered in another
branch" for another office's resident.
"""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lianhu.audit.models import AuditEntry
from lianhu.common.testing import api_call, valid_id_number
from lianhu.org.models import Resident
from lianhu.org.tests.factories import make_resident
from lianhu.org.tests.workbooks import households_file
from lianhu.spreadsheets.models import ImportJob

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.LIANHU_ID_LOOKUP_LIMIT = LIMIT


def lookups(user) -> int:
    return AuditEntry.objects.filter(actor=user, action="lookup").count()


def search(client, number):
    return api_call(client, "post", "/residents/search", {"id_number": number})


def test_the_api_search_is_refused_with_429_after_the_hourly_limit_and_the_office_is_alerted(world, client_for):
    client = client_for(world.advisor_b)
    for n in range(LIMIT):
        assert search(client, valid_id_number(serial=100 + n)).status_code == 200
    refused = search(client, world.resident_b.reveal_id_number())
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("身份证号查询过于频繁：每小时最多 3 次")
    assert lookups(world.advisor_b) == LIMIT  # the refused one was not performed
    alerts = AuditEntry.objects.filter(action="lookup_limit", actor=world.advisor_b)
    assert alerts.count() == 1 and alerts.get().office_id == world.office.pk
    search(client, valid_id_number(serial=200))
    assert alerts.count() == 1  # one alert an hour, however often he is refused


def test_the_limit_counts_the_last_hour_only(world, client_for):
    client = client_for(world.member_user)
    earlier = timezone.now() - dt.timedelta(minutes=61)
    with mock.patch("django.utils.timezone.now", return_value=earlier):
        for n in range(LIMIT):
            assert search(client, valid_id_number(serial=300 + n)).status_code == 200
    assert search(client, valid_id_number(serial=310)).status_code == 200


def test_the_web_searches_and_the_export_share_the_limit(world, client_for):
    client = client_for(world.secretary_a)
    number = world.resident_a.reveal_id_number()
    assert client.post(reverse("org:household_list"), {"q": number}).status_code == 200
    assert client.post(reverse("members:member_list"), {"q": valid_id_number(serial=400)}).status_code == 200
    assert client.post(reverse("transfer:export", args=["households"]), {"q": number}).status_code == 200
    refused = client.post(reverse("org:household_list"), {"q": number})
    assert refused.status_code == 429 and "身份证号查询过于频繁" in refused.content.decode()
    assert client.post(reverse("org:household_list"), {"q": "甲村"}).status_code == 200  # other searches go on


def test_a_number_registered_in_another_office_is_refused_without_saying_where_and_counts(world, client_for):
    client = client_for(world.secretary_a)
    other = world.household_other.residents.get().reveal_id_number()
    response = api_call(client, "patch", f"/residents/{world.resident_a.pk}", {"id_number": other})
    assert response.status_code == 409
    assert response.json()["errors"] == {"id_number": ["该身份证号无法在此登记，请联系办事处核实"]}
    assert "其他" not in response.content.decode() and world.household_other.code not in response.content.decode()
    assert lookups(world.secretary_a) == 1


def test_at_the_limit_a_write_with_any_new_number_is_refused_so_the_refusal_tells_nothing(world, client_for):
    client = client_for(world.secretary_a)
    for n in range(LIMIT):
        search(client, valid_id_number(serial=500 + n))
    free = valid_id_number(serial=600)  # registered nowhere
    taken = world.household_other.residents.get().reveal_id_number()
    for number in (free, taken):
        response = api_call(client, "post", "/residents", {"household": world.household_a.pk, "name": "新人",
                                                             "gender": "F", "id_number": number})
        assert response.status_code == 429
    assert not Resident.objects.filter(name="新人").exists()


def _import(client, *numbers):
    rows = [dict(branch="甲村", grid="甲村一网格", address=f"甲村一组{80 + n}号", name=f"试探{n}", relation="户主",
                 id_number=number) for n, number in enumerate(numbers)]
    client.post(reverse("transfer:upload", args=["households"]),
                {"file": SimpleUploadedFile("户籍.xlsx", households_file(*rows))})
    return ImportJob.objects.latest("pk")


def test_an_import_of_candidate_numbers_tells_at_most_the_limit_of_them(world, client_for):
    client = client_for(world.office_admin)
    other = world.household_other.residents.get().reveal_id_number()
    others = [other] + [valid_id_number(serial=700 + n) for n in range(3)]
    for n, number in enumerate(others[1:]):  # three more residents of the other office
        make_resident(world.household_other, f"丙{n}", id_number=number, relation="子女")
    job = _import(client, *others)
    messages = [(p["row"], p["message"]) for p in job.problems]
    told = [m for row, m in messages if m == "该身份证号无法在此登记，请联系办事处核实"]
    assert len(told) == LIMIT
    assert any(row == 0 and "次数已用完" in m for row, m in messages)
    assert lookups(world.office_admin) == LIMIT


def test_an_import_at_the_limit_checks_no_new_number(world, client_for):
    client = client_for(world.office_admin)
    for n in range(LIMIT):
        search(client, valid_id_number(serial=800 + n))
    job = _import(client, valid_id_number(serial=900))  # registered nowhere: still not checked
    assert [p["message"] for p in job.problems if p["row"] == 0][0].startswith("本小时可核对的身份证号次数已用完")
    assert lookups(world.office_admin) == LIMIT


def test_the_audit_page_alerts_the_offices_audit_administrators(world, client_for):
    from lianhu.accounts.models import Role
    from lianhu.accounts.tests.factories import make_user

    client = client_for(world.advisor_b)
    for n in range(LIMIT + 1):
        search(client, valid_id_number(serial=950 + n))
    url = reverse("audit:audit_list")
    assert "身份证号查询超过每小时上限" in client_for(world.audit_admin).get(url).content.decode()
    other_auditor = make_user("other_audit_admin", Role.AUDIT_ADMIN, office=world.other_office)
    assert "身份证号查询超过每小时上限" not in client_for(other_auditor).get(url).content.decode()


def test_control_characters_in_a_searched_number_are_dropped_not_a_server_error(world, client_for):
    # A NUL reached the audit entry's JSON, which PostgreSQL refuses: a 500 there.
    number = world.resident_b.reveal_id_number()
    response = search(client_for(world.office_admin), number[:6] + "\x00\x07" + number[6:])
    assert response.status_code == 200 and [r["id"] for r in response.json()["items"]] == [world.resident_b.pk]
    assert "\x00" not in str(AuditEntry.objects.filter(action="lookup").latest("pk").detail)
