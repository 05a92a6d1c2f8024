import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from lianhu.audit.models import AuditEntry
from lianhu.audit.services import audit_log

pytestmark = pytest.mark.django_db


def test_the_database_refuses_to_change_an_audit_entry(world):
    entry = audit_log(actor=world.office_admin, action="reveal", obj=world.resident_a, field="phone")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(field="id_number")
    entry.refresh_from_db()
    assert entry.field == "phone"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row deletes are refused by the PostgreSQL trigger")
def test_postgresql_refuses_to_delete_a_young_audit_entry(world):
    entry = audit_log(actor=world.office_admin, action="login")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_page_shows_own_office_entries_only_to_its_audit_administrator(world, client_for):
    audit_log(actor=world.secretary_a, action="reveal", obj=world.resident_a, field="id_number", ip="10.0.0.9",
              detail={"label": "身份证号"})
    audit_log(actor=world.other_office_admin, action="update", obj=world.household_other)
    body = client_for(world.audit_admin).get(reverse("audit:audit_list")).content.decode()
    # Whose number was revealed, by whom, from where: the person by his masked name (no business data here).
    assert "居民 单**" in body and "secretary_a" in body and "身份证号" in body and "10.0.0.9" in body
    assert "单雪梅" not in body
    assert world.household_other.address not in body
    # 三员分立: the administrators and everyone else do not read the log.
    for persona in ("office_admin", "zone_admin", "secretary_a", "office_staff"):
        assert client_for(getattr(world, persona)).get(reverse("audit:audit_list")).status_code == 404


def test_forwarded_address_is_used_only_when_the_proxy_is_trusted(rf, settings):
    from lianhu.common.http import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.1")
    settings.LIANHU_TRUST_X_FORWARDED_FOR = False
    assert client_ip(request) == "10.0.0.1"
    settings.LIANHU_TRUST_X_FORWARDED_FOR = True
    assert client_ip(request) == "203.0.113.7"


def test_an_unregistered_verb_is_refused_and_a_registered_one_shows_its_label(db):
    from lianhu.audit.services import audit_log
    from lianhu.common.registry import UnknownEntry

    with pytest.raises(UnknownEntry, match="unknown audit verb 'linkk'"):
        audit_log(actor=None, action="linkk")
    entry = audit_log(actor=None, action="link")
    assert entry.action_label == "建立联系"


def test_an_entry_knows_its_office_from_its_objects_scope(world):
    from lianhu.audit.services import office_of

    assert office_of(world.resident_a) == world.office.pk
    assert office_of(world.link_a) == world.office.pk
    assert office_of(world.office) == world.office.pk
    assert office_of(world.zone) is None  # a zone is above any office


def test_the_summary_says_a_writes_before_and_after_and_a_proposals_count_alike():
    """A proposal's detail has "changes" too, as a count: the page once failed on it (500)."""
    from lianhu.audit.models import AuditEntry

    update = AuditEntry(action="update", detail={"fields": ["floors"], "changes": [["层数", "", "2"]]})
    assert update.summary == "层数：（空） → 2"
    assert AuditEntry(action="create", detail={"values": [["姓名", "张**"]]}).summary == "姓名：张**"
    assert AuditEntry(action="create", detail={"changes": 3, "unplaced": 0}).summary == "建议调整 3 户"
    assert AuditEntry(action="update", detail={"applied": True, "changes": 2}).summary == "已应用调整 2 户"
