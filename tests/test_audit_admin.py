"""The audit administrator (审计管理员, 三员分立): the log of his office or zone, none of its business data.

And the other side of the split: the zone and office administrators, who manage users and data, no
longer read the log of their own actions. A zone account's logins are in the zone's log, which only the
zone's audit administrators read.
"""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from lianhu.accounts.middleware import idle_limit
from lianhu.accounts.models import Membership, Role
from lianhu.accounts.tests.factories import make_user
from lianhu.audit.models import AuditEntry
from lianhu.audit.services import audit_log
from lianhu.common.testing import PASSWORD, api_call
from lianhu.members.tests import test_api as members_api
from lianhu.org.tests import test_api as org_api
from lianhu.org.tests.factories import make_office, make_zone

pytestmark = pytest.mark.django_db

AUDIT = reverse("audit:audit_list")
BUSINESS_LISTS = ["org:branch_list", "org:household_list", "members:member_list", "members:needs_member",
                  "dashboard:zone_overview", "dashboard:my_households"]


def logged_in_entries(client) -> list[AuditEntry]:
    response = client.get(AUDIT)
    assert response.status_code == 200
    return [e for e in response.context["page"] if e.action in ("login", "login_failed", "logout")]


@pytest.mark.parametrize("name", BUSINESS_LISTS)
def test_business_lists_are_404_for_the_audit_administrator(world, client_for, name):
    assert client_for(world.audit_admin).get(reverse(name)).status_code == 404
    assert client_for(world.office_admin).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("kind", ["households", "members", "links"])
def test_he_exports_no_business_list_and_gets_no_template(world, client_for, kind):
    client = client_for(world.audit_admin)
    assert client.post(reverse("transfer:export", args=[kind])).status_code == 404
    assert client.get(reverse("transfer:template", args=[kind])).status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_he_cannot_reveal_on_the_pages_or_through_the_api(world, client_for):
    client = client_for(world.audit_admin)
    assert client.post(reverse("org:reveal", args=["resident", world.resident_a.pk, "id_number"])).status_code == 404
    response = api_call(client, "post", f"/residents/{world.resident_a.pk}/reveal", {"field": "phone"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


ENDPOINTS = [(m, u, b) for module in (org_api, members_api) for m, u, b, *_rest in module.ENDPOINTS]
API_LISTS = sorted({url for module in (org_api, members_api) for url, *_rest in module.LISTS})


@pytest.mark.parametrize("method,url,body_of", ENDPOINTS, ids=[f"{m.upper()} {u}" for m, u, _b in ENDPOINTS])
def test_every_api_object_of_his_office_is_404_to_him_and_nothing_is_written(world, client_for, method, url, body_of):
    entries = AuditEntry.objects.count()
    response = api_call(client_for(world.audit_admin), method, url.format_map(org_api.PksOf(world)),
                        body_of(world) if body_of else None)
    assert response.status_code == 404, response.content
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("url", API_LISTS)
def test_every_api_list_is_empty_for_him(world, client_for, url):
    response = api_call(client_for(world.audit_admin), "get", url)
    assert response.status_code == 200 and response.json()["items"] == []


def test_his_navigation_is_the_log_and_his_home_page_too(world, client_for):
    client = client_for(world.audit_admin)
    assert client.get(reverse("dashboard:home")).url == AUDIT
    assert client.get(AUDIT).context["nav"] == [("日志", AUDIT)]


@pytest.mark.parametrize("persona", ["office_admin", "zone_admin", "office_staff"])
def test_the_administrators_have_no_log_entry_in_their_navigation(world, client_for, persona):
    nav = client_for(getattr(world, persona)).get(reverse("org:branch_list")).context["nav"]
    assert AUDIT not in [href for _label, href in nav]


def test_his_session_ends_after_the_short_idle_time(world, settings):
    assert idle_limit(world.audit_admin) == settings.SESSION_IDLE_MINUTES * 60
    assert idle_limit(world.member_user) == settings.SESSION_IDLE_MINUTES_READONLY * 60


def test_an_audit_administrator_is_anchored_at_an_office_or_the_zone_never_both_nor_neither(world):
    user = make_user("half_auditor")
    for anchor in ({}, {"office": world.office, "zone": world.zone}, {"branch": world.branch_a}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(user=user, role=Role.AUDIT_ADMIN, **anchor)


# ---- a zone account's logins are the zone's ----------------------------------------------------------

@pytest.fixture
def auditors(world):
    """The zone's audit administrator, and another zone's with its own office."""
    other_zone = make_zone("乙区", code="410174")
    make_office(other_zone, "丙办事处")
    return (make_user("zone_auditor", Role.AUDIT_ADMIN, zone=world.zone),
            make_user("other_zone_auditor", Role.AUDIT_ADMIN, zone=other_zone))


def test_a_zone_admins_login_logout_and_failed_login_are_seen_by_the_zones_audit_administrator_only(
        world, client, client_for, auditors):
    zone_auditor, other_zone_auditor = auditors
    client.post(reverse("accounts:login"), {"username": "zone_admin", "password": "wrong"}, REMOTE_ADDR="10.1.0.1")
    client.post(reverse("accounts:login"), {"username": "zone_admin", "password": PASSWORD}, REMOTE_ADDR="10.1.0.2")
    client.post(reverse("accounts:logout"), REMOTE_ADDR="10.1.0.2")

    entries = AuditEntry.objects.filter(action__in=["login", "login_failed", "logout"])
    assert {(e.action, e.office_id, e.zone_id) for e in entries} == {
        ("login_failed", None, world.zone.pk), ("login", None, world.zone.pk), ("logout", None, world.zone.pk)}
    assert [e.action for e in logged_in_entries(client_for(zone_auditor))] == ["logout", "login", "login_failed"]
    assert logged_in_entries(client_for(other_zone_auditor)) == []
    assert logged_in_entries(client_for(world.audit_admin)) == []  # an office's auditor: not the zone's log


def test_the_zone_auditor_also_sees_his_offices_entries_and_the_office_auditor_only_his_own(world, client_for,
                                                                                            auditors):
    zone_auditor, other_zone_auditor = auditors
    mine = audit_log(actor=world.secretary_a, action="login", office_id=world.office.pk)
    theirs = audit_log(actor=world.other_office_admin, action="login", office_id=world.other_office.pk)
    assert set(logged_in_entries(client_for(zone_auditor))) == {mine, theirs}
    assert logged_in_entries(client_for(world.audit_admin)) == [mine]
    assert logged_in_entries(client_for(other_zone_auditor)) == []


def test_a_failed_login_of_a_name_no_account_has_is_seen_by_every_zones_auditor_and_no_offices(
        world, client, client_for, auditors):
    client.post(reverse("accounts:login"), {"username": "root", "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    for auditor in auditors:
        [entry] = logged_in_entries(client_for(auditor))
        assert (entry.action, entry.username, entry.ip) == ("login_failed", "root", "203.0.113.5")
    assert logged_in_entries(client_for(world.audit_admin)) == []


def test_an_entry_of_no_office_takes_the_zone_of_its_object_or_its_actor(world):
    assert audit_log(actor=None, action="update", obj=world.zone).zone_id == world.zone.pk
    assert audit_log(actor=world.zone_admin, action="token").zone_id == world.zone.pk
    on_office = audit_log(actor=world.zone_admin, action="update", obj=world.branch_a)
    assert (on_office.office_id, on_office.zone_id) == (world.office.pk, None)  # the office says the zone
    assert audit_log(actor=None, action="login_failed").zone_id is None
