"""The audit page of an audit administrator: its filters, its pages, its export (audited), nothing in clear."""

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from lianhu.accounts.models import Role
from lianhu.accounts.tests.factories import make_user
from lianhu.audit.models import AuditEntry
from lianhu.audit.services import audit_log

pytestmark = pytest.mark.django_db

AUDIT = reverse("audit:audit_list")
EXPORT = reverse("transfer:export", args=["audit"])


def written_on(day: dt.date, **entry) -> AuditEntry:
    """An entry written at noon (Beijing time) of `day` (updates are refused, so `at` is set by writing it then)."""
    noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    with mock.patch("django.utils.timezone.now", return_value=noon):
        return audit_log(**entry)


def listed(client, **filters) -> list[AuditEntry]:
    response = client.get(AUDIT, filters)
    assert response.status_code == 200
    return list(response.context["page"])


def rows_of(response) -> list[tuple]:
    """The data rows of an exported workbook (a title row, then the header row)."""
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [r for r in sheet.iter_rows(min_row=3, values_only=True) if any(r)]


@pytest.fixture
def auditor(world, client_for):
    return client_for(world.audit_admin)


@pytest.fixture
def zone_auditor(world):
    return make_user("zone_audit", Role.AUDIT_ADMIN, zone=world.zone)


def test_it_filters_by_actor_verb_object_type_address_and_day(world, auditor):
    today = timezone.localdate()
    reveal = written_on(today, actor=world.secretary_a, action="reveal", obj=world.resident_a, field="phone",
                        ip="10.0.0.9")
    login = written_on(today - dt.timedelta(days=3), actor=world.office_staff, action="login", ip="10.0.1.20",
                       office_id=world.office.pk)
    member_edit = written_on(today - dt.timedelta(days=10), actor=world.office_admin, action="update",
                             obj=world.member_a, ip="192.168.3.4")

    assert listed(auditor) == [reveal, login, member_edit]
    assert listed(auditor, actor="secretary_a") == [reveal]
    assert listed(auditor, actor="OFFICE_STAFF") == [login]  # the account name in any case
    assert listed(auditor, action="update") == [member_edit]
    assert listed(auditor, object_type="org.resident") == [reveal]
    assert listed(auditor, object_type="members.partymember") == [member_edit]
    assert listed(auditor, ip="10.0.0.9") == [reveal]
    assert listed(auditor, ip="10.0.") == [reveal, login]  # the beginning of an address
    assert listed(auditor, date_from=today - dt.timedelta(days=3)) == [reveal, login]
    assert listed(auditor, date_to=today - dt.timedelta(days=3)) == [login, member_edit]
    assert listed(auditor, date_from=today - dt.timedelta(days=3), date_to=today - dt.timedelta(days=3)) == [login]
    assert listed(auditor, action="update", date_from=today) == []


def test_a_failed_login_is_found_by_the_account_tried(world, client, client_for):
    client.post(reverse("accounts:login"), {"username": "secretary_a", "password": "wrong"})
    [entry] = listed(client_for(world.audit_admin), actor="secretary_a")
    assert entry.action == "login_failed" and entry.username == "secretary_a"


def test_wrong_filters_say_which_field_and_show_nothing_instead_of_failing(world, auditor):
    audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk)
    for filters, message in [
        ({"date_from": "2026-13-40"}, "起始日期："),
        ({"date_to": "1-01-01"}, "截止日期："),
        ({"date_from": "9999-12-31"}, "起始日期：请填写 2100 年以前的日期"),
        ({"date_from": "2026-12-02", "date_to": "2026-12-01"}, "截止日期：截止日期不能早于起始日期"),
        ({"ip": "10.0.0.1; drop"}, "来源地址：请填写 IP 地址或它的开头部分"),
        ({"action": "no_such_verb"}, "操作："),
        ({"object_type": "auth.permission"}, "对象类型："),
    ]:
        response = auditor.get(AUDIT, filters)
        assert response.status_code == 200
        assert list(response.context["page"]) == []
        assert any(p.startswith(message) for p in response.context["problems"]), (filters, response.context["problems"])


def test_another_office_or_junk_as_office_is_404_on_the_page_and_the_export(world, auditor, client_for, zone_auditor):
    for office in (world.other_office.pk, "abc", "99999999999999999999", "zone"):
        assert auditor.get(AUDIT, {"office": office}).status_code == 404
        assert auditor.post(EXPORT, {"office": office}).status_code == 404
    assert client_for(zone_auditor).get(AUDIT, {"office": world.other_office.pk}).status_code == 200


def test_the_zone_auditor_sees_every_office_of_his_zone_and_picks_one_or_the_zone_level(world, client_for,
                                                                                        zone_auditor):
    mine = audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk)
    theirs = audit_log(actor=world.other_office_admin, action="login", office_id=world.other_office.pk)
    zone_level = audit_log(actor=world.zone_admin, action="login")
    client = client_for(zone_auditor)
    assert listed(client) == [zone_level, theirs, mine]
    assert listed(client, office=world.other_office.pk) == [theirs]
    assert listed(client, office="zone") == [zone_level]
    body = client.get(AUDIT).content.decode()
    assert '<option value="zone"' in body and "乙办事处" in body


def test_pages_keep_the_filters(world, auditor):
    for n in range(55):
        audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk, ip=f"10.0.0.{n + 1}")
    audit_log(actor=world.office_admin, action="logout", office_id=world.office.pk)
    first = auditor.get(AUDIT, {"action": "login"})
    assert first.context["page"].paginator.count == 55
    assert 'href="?action=login&page=2"' in first.content.decode()
    assert len(listed(auditor, action="login", page=2)) == 5


def test_the_export_is_the_filtered_log_in_a_workbook_and_is_audited_itself(world, auditor):
    today = timezone.localdate()
    written_on(today, actor=world.secretary_a, action="reveal", obj=world.resident_a, field="id_number",
               ip="10.0.0.9", detail={"label": "身份证号"})
    written_on(today - dt.timedelta(days=5), actor=world.office_admin, action="update", obj=world.household_a)
    audit_log(actor=world.other_office_admin, action="update", obj=world.household_other)

    rows = rows_of(auditor.post(EXPORT, {"action": "reveal", "date_from": str(today)}))

    assert len(rows) == 1
    at, office, actor, username, action, object_type, object_id, shown, field, _summary, ip = rows[0]
    assert isinstance(at, dt.datetime) and at.date() == today and at.hour == 12  # Beijing time
    assert (office, actor, username, action, object_type, object_id, shown, field, ip) == (
        "甲办事处", "secretary_a", "secretary_a", "查看敏感信息", "居民", str(world.resident_a.pk), "单**", "身份证号",
        "10.0.0.9")
    export = AuditEntry.objects.get(action="export")
    assert (export.actor, export.office_id) == (world.audit_admin, world.office.pk)
    assert export.detail["export"] == "audit" and export.detail["rows"] == 1 and not export.detail["masked"]
    # The export's own entry says what was exported, with no word of ID numbers or phones: the log has none.
    assert export.summary == f"操作日志 1 行；筛选 操作：查看敏感信息，起始日期：{today}"
    assert listed(auditor, action="export") == [export]


def test_nothing_personal_is_in_clear_on_the_page_or_in_the_export(world, client, client_for, zone_auditor):
    from lianhu.audit.lookups import id_lookup

    number, phone = "360426199101010071", "13912345678"
    client.post(reverse("accounts:login"), {"username": phone, "password": "wrong"})  # a phone typed as the name
    id_lookup(actor=world.secretary_a, raw=number)
    audit_log(actor=world.secretary_a, action="reveal", obj=world.resident_a, field="phone")
    audit_log(actor=world.secretary_a, action="update", obj=world.member_a)
    audit_log(actor=world.secretary_a, action="export", office_id=world.office.pk, detail={
        "export": "households", "rows": 1, "masked": False, "filters": {"q": number}})

    auditor = client_for(zone_auditor)  # the failed login of a name no account has is no office's
    page = auditor.get(AUDIT).content.decode()
    workbook = auditor.post(EXPORT).content
    cells = " ".join(str(c) for r in load_workbook(io.BytesIO(workbook)).worksheets[0].iter_rows(values_only=True)
                     for c in r if c)
    for shown in (page, cells):
        assert number not in shown and phone not in shown
        assert "单雪梅" not in shown and "李建国" not in shown  # the resident and the member, by masked names
        assert "360*************71" in shown and "139****5678" in shown and "单**" in shown and "李**" in shown


def test_the_audit_log_is_only_exported_never_imported(world, auditor, client_for):
    assert auditor.get(reverse("transfer:template", args=["audit"])).status_code == 404
    assert auditor.get(reverse("transfer:upload", args=["audit"])).status_code == 404
    assert client_for(world.office_admin).get(reverse("transfer:upload", args=["audit"])).status_code == 404
    with pytest.raises(CommandError, match="invalid choice: 'audit'"):
        call_command("import_xlsx", "audit", "x.xlsx", "--office", world.office.name)


def test_nobody_but_an_audit_administrator_exports_the_log(world, client_for):
    audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk)
    for persona in ("office_admin", "zone_admin", "office_staff", "secretary_a", "member_user"):
        assert client_for(getattr(world, persona)).post(EXPORT).status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_operator_exports_an_offices_log_from_the_command_line(world, tmp_path):
    audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk)
    audit_log(actor=world.other_office_admin, action="login", office_id=world.other_office.pk)
    out = tmp_path / "日志.xlsx"
    call_command("export_xlsx", "audit", str(out), "--office", world.office.name, stdout=io.StringIO())
    rows = [r for r in load_workbook(out).worksheets[0].iter_rows(min_row=3, values_only=True) if any(r)]
    assert [(r[1], r[2]) for r in rows] == [("甲办事处", "secretary_a")]
    assert AuditEntry.objects.filter(action="export", office=world.office, actor=None).exists()
