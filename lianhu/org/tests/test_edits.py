"""Concurrent edits of households and residents: a write changes only what it sends, on the row as it is
now, and a writer who names the version he read is refused (412, or the form again) once it changed."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from lianhu.accounts.tests.factories import VerifiedClient
from lianhu.audit.models import AuditEntry
from lianhu.common.testing import PksOf, api_call, at_once, meanwhile
from lianhu.org import api as org_api
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db

call = api_call

STALE = {"detail": "已被他人修改"}


def client_of(user) -> VerifiedClient:
    client = VerifiedClient()
    client.force_login(user)
    return client


def reading(model, action="edit_roster"):
    """`when` for meanwhile(): the endpoint's look-up of its own object for writing."""
    return lambda request, m, pk, act="view", **kw: m is model and act == action


def updates(obj) -> int:
    return AuditEntry.objects.filter(action="update", object_id=str(obj.pk),
                                     object_type=obj._meta.label_lower).count()


# ---- a PATCH writes only what it sends, on the row as it is now -----------------------------------


def test_a_patch_that_read_the_household_before_another_patch_keeps_the_other_patchs_field(
        world, client_for, monkeypatch):
    w = world
    other = client_of(w.office_admin)
    meanwhile(monkeypatch, org_api, "scoped_get",
              lambda: call(other, "patch", f"/households/{w.household_a.pk}", {"address": "甲村一组10号"}),
              when=reading(Household))
    response = call(client_for(w.secretary_a), "patch", f"/households/{w.household_a.pk}", {"floors": 4})
    assert response.status_code == 200, response.content
    w.household_a.refresh_from_db()
    assert (w.household_a.address, w.household_a.floors) == ("甲村一组10号", 4)
    assert response.json()["address"] == "甲村一组10号"


def test_a_patch_that_read_the_resident_before_another_patch_keeps_the_other_patchs_fields(
        world, client_for, monkeypatch):
    w = world
    other = client_of(w.office_admin)
    meanwhile(monkeypatch, org_api, "scoped_get",
              lambda: call(other, "patch", f"/residents/{w.resident_a.pk}", {"name": "单雪莲", "phone": "13700002222"}),
              when=reading(Resident))
    response = call(client_for(w.secretary_a), "patch", f"/residents/{w.resident_a.pk}", {"care_tags": ["空巢老人"]})
    assert response.status_code == 200, response.content
    r = Resident.objects.get(pk=w.resident_a.pk)
    assert (r.name, r.name_initials, r.reveal_phone(), r.care_tags) == ("单雪莲", "sxl", "13700002222", ["空巢老人"])
    assert r.reveal_id_number() == "360426199101010071" and r.reveal_sensitive_tags() == ["低保"]


def test_an_update_is_audited_with_the_names_of_the_fields_it_changed_and_a_patch_changing_nothing_is_not(
        world, client_for):
    w = world
    client = client_for(w.secretary_a)
    call(client, "patch", f"/residents/{w.resident_a.pk}", {"name": "单雪梅", "phone": "13700002222", "gender": "M"})
    entry = AuditEntry.objects.filter(action="update", object_id=str(w.resident_a.pk)).get()
    # Before and after, the phone masked as everywhere else.
    assert entry.detail == {"fields": ["gender", "phone"],
                            "changes": [["性别", "女", "男"], ["联系电话", "139****5678", "137****2222"]]}
    version = call(client, "get", f"/residents/{w.resident_a.pk}")["ETag"]
    response = call(client, "patch", f"/residents/{w.resident_a.pk}", {"name": "单雪梅", "phone": "137 0000 2222"})
    assert response.status_code == 200 and response["ETag"] == version
    assert updates(w.resident_a) == 1


# ---- ETag and If-Match ------------------------------------------------------------------------------


@pytest.mark.parametrize("url,change,later", [
    ("/households/{household_a}", {"notes": "新装了电梯"}, {"floors": 7}),
    ("/residents/{resident_a}", {"relation": "配偶"}, {"phone": "13700002222", "sensitive_tags": []}),
], ids=["household", "resident"])
def test_a_patch_naming_an_older_version_answers_412_and_writes_nothing(world, client_for, url, change, later):
    url = url.format_map(PksOf(world))
    client = client_for(world.secretary_a)
    read = call(client, "get", url)
    assert re.fullmatch(r'W/"\d+"', read["ETag"])
    assert call(client_of(world.office_admin), "patch", url, change).status_code == 200
    model = Household if url.startswith("/households") else Resident
    pk = int(url.rsplit("/", 1)[1])
    stored = model.objects.get(pk=pk)
    entries = AuditEntry.objects.count()

    response = client.patch("/api/v1" + url, data=later, content_type="application/json", headers={"If-Match": read["ETag"]})
    assert response.status_code == 412
    assert response.json() == STALE
    after = model.objects.get(pk=pk)
    assert [getattr(after, f.attname) for f in model._meta.fields] == [getattr(stored, f.attname) for f in model._meta.fields]
    assert AuditEntry.objects.count() == entries


def test_a_patch_naming_the_current_version_is_written_and_gives_the_new_version(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = f"/api/v1/households/{w.household_a.pk}"
    version = client.get(url)["ETag"]
    response = client.patch(url, data={"floors": 3}, content_type="application/json", headers={"If-Match": version})
    assert response.status_code == 200, response.content
    assert response["ETag"] != version
    assert client.get(url)["ETag"] == response["ETag"]
    # The tag as a strong one, among others, or "*": any of them names the current version.
    for if_match in (lambda tag: tag.removeprefix("W/"), lambda tag: f'"1", {tag}', lambda tag: "*"):
        header = if_match(response["ETag"])
        response = client.patch(url, data={"notes": header}, content_type="application/json",
                                headers={"If-Match": header})
        assert response.status_code == 200, (header, response.content)
    # A header that names no tag is refused as such (the schema states the form), not taken as a stale version.
    response = client.patch(url, data={"notes": "x"}, content_type="application/json", headers={"If-Match": "not a tag"})
    assert (response.status_code, list(response.json()["errors"])) == (422, ["If-Match"])


def test_a_new_household_and_resident_come_with_their_version(world, client_for):
    client = client_for(world.secretary_a)
    household = call(client, "post", "/households", {"branch": world.branch_a.pk, "grid": world.grid_a.pk,
                                                     "address": "甲村一组9号"})
    resident = call(client, "post", "/residents", {"household": world.household_a.pk, "name": "王小明", "gender": "M"})
    for response, url in ((household, "/households"), (resident, "/residents")):
        assert response.status_code == 201
        assert response["ETag"] == call(client, "get", f"{url}/{response.json()['id']}")["ETag"]


def test_the_openapi_document_lists_if_match_and_the_412_of_each_patch(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/households/{household_id}", "/api/v1/residents/{resident_id}"):
        patch = paths[path]["patch"]
        assert "412" in patch["responses"]
        assert any(p["in"] == "header" and p["name"] == "If-Match" for p in patch["parameters"])


# ---- the web forms ----------------------------------------------------------------------------------


def version_on(page) -> str:
    return re.search(r'name="version" value="(\d+)"', page.content.decode()).group(1)


def test_a_household_form_saved_after_someone_else_saved_shows_the_stored_values_and_writes_nothing(
        world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = reverse("org:household_edit", args=[w.household_a.pk])
    version = version_on(client.get(url))
    call(client_of(w.office_admin), "patch", f"/households/{w.household_a.pk}", {"address": "甲村一组10号"})
    entries = AuditEntry.objects.count()
    typed = {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组1号", "floors": 5, "version": version}

    response = client.post(url, typed)
    assert response.status_code == 200
    body = response.content.decode()
    assert "该记录已被他人修改，以下为最新内容，请核对后重新提交" in body
    assert 'value="甲村一组10号"' in body  # the input holds what is stored now
    assert "您刚才填写的是：5" in body and "您刚才填写的是：甲村一组1号" in body  # what he typed, beside
    w.household_a.refresh_from_db()
    assert (w.household_a.address, w.household_a.floors) == ("甲村一组10号", None)
    assert AuditEntry.objects.count() == entries

    # Submitted again from what is now shown, it is saved.
    response = client.post(url, {**typed, "address": "甲村一组10号", "version": version_on(response)})
    assert response.status_code == 302
    w.household_a.refresh_from_db()
    assert (w.household_a.address, w.household_a.floors) == ("甲村一组10号", 5)


def test_a_household_form_is_stale_even_if_the_other_save_came_after_the_page_was_read(
        world, client_for, monkeypatch):
    """The other save lands between this request's read and its write: the service refuses it under the lock."""
    from lianhu.org import views

    w = world
    client = client_for(w.secretary_a)
    url = reverse("org:household_edit", args=[w.household_a.pk])
    version = version_on(client.get(url))
    other = client_of(w.office_admin)
    original = views.household_update

    def update_after_another(**kwargs):
        call(other, "patch", f"/households/{w.household_a.pk}", {"address": "甲村一组10号"})
        return original(**kwargs)

    monkeypatch.setattr(views, "household_update", update_after_another)
    response = client.post(url, {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组1号",
                                 "floors": 5, "version": version})
    assert "该记录已被他人修改" in response.content.decode()
    w.household_a.refresh_from_db()
    assert (w.household_a.address, w.household_a.floors) == ("甲村一组10号", None)


def test_a_resident_form_saved_after_someone_else_saved_shows_the_stored_values_and_writes_nothing(
        world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = reverse("org:resident_edit", args=[w.household_a.pk, w.resident_a.pk])
    version = version_on(client.get(url))
    call(client_of(w.office_admin), "patch", f"/residents/{w.resident_a.pk}", {"name": "单雪莲"})
    response = client.post(url, {"name": "单雪梅", "gender": "F", "relation": "户主", "care_tags": ["独居老人"],
                                 "id_number": "", "phone": "13700002222", "version": version})
    body = response.content.decode()
    assert response.status_code == 200 and "该记录已被他人修改" in body
    assert 'value="单雪莲"' in body and "您刚才填写的是：13700002222" in body
    r = Resident.objects.get(pk=w.resident_a.pk)
    assert (r.name, r.reveal_phone()) == ("单雪莲", "13912345678")


def test_a_form_saved_without_anyone_else_saving_is_written(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    url = reverse("org:household_edit", args=[w.household_a.pk])
    response = client.post(url, {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组1号",
                                 "floors": 2, "version": version_on(client.get(url))})
    assert response.status_code == 302
    w.household_a.refresh_from_db()
    assert w.household_a.floors == 2
    assert AuditEntry.objects.get(action="update", object_id=str(w.household_a.pk)).detail == {
        "fields": ["floors"], "changes": [["层数", "", "2"]]}


def test_an_import_that_changes_a_resident_makes_a_form_read_before_it_stale(world, client_for):
    from lianhu.common import xlsx
    from lianhu.org.sheets import HouseholdSheet
    from lianhu.org.tests.workbooks import households_file

    w = world
    client = client_for(w.secretary_a)
    url = reverse("org:resident_edit", args=[w.household_a.pk, w.resident_a.pk])
    version = version_on(client.get(url))
    outcome = xlsx.import_file(HouseholdSheet(office=w.office, user=w.secretary_a), households_file(
        dict(code=w.household_a.code, name="单雪梅", id_number="360426199101010071", phone="13700002222")),
        "户籍.xlsx", apply=True)
    assert outcome.ok, [p.message for p in outcome.errors]
    response = client.post(url, {"name": "单雪梅", "gender": "M", "relation": "户主", "id_number": "", "phone": "",
                                 "version": version})
    assert "该记录已被他人修改" in response.content.decode()
    r = Resident.objects.get(pk=w.resident_a.pk)
    assert (r.gender, r.reveal_phone()) == ("F", "13700002222")


# ---- for real, on PostgreSQL ------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_clients_patching_different_fields_of_one_household_at_once_all_get_written(world):
    w = world
    url = f"/households/{w.household_a.pk}"
    for round in range(3):
        changes = {"address": f"甲村一组{round + 20}号", "villager_group": f"{round + 1}组", "notes": f"第{round}轮",
                   "floors": round + 2, "built_year": 1990 + round, "self_built": round % 2 == 0,
                   "lng": 113.8 + round / 100, "lat": 34.5 + round / 100, "code": f"{w.branch_a.code}9{round:03d}"}
        clients = [client_of(w.office_admin if i % 2 else w.secretary_a) for i in range(len(changes))]
        statuses = at_once([lambda c=c, f=f, v=v: call(c, "patch", url, {f: v}).status_code
                            for c, (f, v) in zip(clients, changes.items())])
        assert statuses == [200] * len(changes)
        stored = Household.objects.get(pk=w.household_a.pk)
        assert {f: getattr(stored, f) for f in changes} == changes
        assert updates(stored) == len(changes) * (round + 1)
