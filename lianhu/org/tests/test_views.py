import pytest
from django.urls import reverse

from lianhu.audit.models import AuditEntry
from lianhu.org.tests.factories import make_household, make_resident
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db


def rows(response):
    return response.content.decode()


def test_household_search_finds_by_name_pinyin_initials_and_id_number(world, client_for):
    client = client_for(world.secretary_a)
    url = reverse("org:household_list")
    for q in ["单雪梅", "sxm", "360426199101010071", "一组1号"]:
        body = rows(client.get(url, {"q": q}))
        assert world.household_a.code in body, q
        assert world.household_a2.code not in body, q


def test_household_search_by_id_number_does_not_leak_other_branches(world, client_for):
    client = client_for(world.secretary_b)
    body = rows(client.get(reverse("org:household_list"), {"q": "360426199101010071"}))
    assert world.household_a.code not in body
    assert "没有符合条件的户" in body


def test_household_list_filters_unlinked_households(world, client_for):
    body = rows(client_for(world.office_admin).get(reverse("org:household_list"), {"linked": "no"}))
    assert world.household_a2.code in body
    assert world.household_a.code not in body


def test_household_page_masks_personal_data(world, client_for):
    body = rows(client_for(world.secretary_a).get(reverse("org:household_detail", args=[world.household_a.pk])))
    assert "360*************71" in body
    assert "360426199101010071" not in body
    assert "139****5678" in body
    assert "低保" not in body  # sensitive tags stay hidden until revealed


def test_reveal_shows_full_value_and_writes_an_audit_entry(world, client_for):
    client = client_for(world.secretary_a)
    response = client.post(reverse("org:reveal", args=["resident", world.resident_a.pk, "id_number"]),
                           REMOTE_ADDR="10.1.2.3")
    assert "360426199101010071" in rows(response)
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.actor, entry.field, entry.object_id, entry.ip) == (world.secretary_a, "id_number", str(world.resident_a.pk), "10.1.2.3")
    assert entry.office_id == world.office.pk
    tags = client.post(reverse("org:reveal", args=["resident", world.resident_a.pk, "sensitive_tags"]))
    assert "低保" in rows(tags)


def test_member_cannot_reveal_even_his_own_households_data(world, client_for):
    client = client_for(world.member_user)
    body = rows(client.get(reverse("org:household_detail", args=[world.household_a.pk])))
    assert "查看</button>" not in body
    assert client.post(reverse("org:reveal", args=["resident", world.resident_a.pk, "phone"])).status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_rejected_resident_form_keeps_what_was_typed_and_says_why_in_chinese(world, client_for):
    client = client_for(world.secretary_a)
    url = reverse("org:resident_create", args=[world.household_a.pk])
    response = client.post(url, {"name": "王小明", "gender": "M", "relation": "子女", "birth_date": "2010-05-01",
                                 "id_number": "360426199101010072", "phone": "1381234"})
    body = rows(response)
    assert response.status_code == 200
    assert "校验位不正确" in body and "电话号码" in body
    assert 'value="王小明"' in body and 'value="360426199101010072"' in body
    assert not Resident.objects.filter(name="王小明").exists()


def test_duplicate_id_number_is_refused_with_the_household_it_belongs_to(world, client_for):
    client = client_for(world.secretary_a)
    response = client.post(reverse("org:resident_create", args=[world.household_a2.pk]),
                           {"name": "冒名", "gender": "F", "relation": "户主", "id_number": "360426199101010071"})
    assert world.household_a.code in rows(response)
    assert not Resident.objects.filter(name="冒名").exists()


def test_resident_is_created_sealed_and_found_by_id_number(world, client_for):
    client = client_for(world.secretary_a)
    response = client.post(reverse("org:resident_create", args=[world.household_a2.pk]), {
        "name": "曾小红", "gender": "F", "relation": "户主", "birth_date": "1950-02-03",
        "id_number": "４１０１８４１９５００２０３００２x", "phone": "+86 139-0000-1111",
        "care_tags": ["独居老人"], "sensitive_tags": ["残疾人"],
    })
    assert response.status_code == 302, rows(response)
    r = Resident.objects.get(name="曾小红")
    assert r.name_initials == "zxh"
    assert r.reveal_id_number().endswith("X") and r.reveal_phone() == "13900001111"
    assert r.reveal_sensitive_tags() == ["残疾人"]
    assert "13900001111" not in r.phone_cipher


def test_editing_a_resident_with_blank_sealed_fields_keeps_them(world, client_for):
    client = client_for(world.secretary_a)
    r = world.resident_a
    response = client.post(reverse("org:resident_edit", args=[world.household_a.pk, r.pk]),
                           {"name": "单雪梅", "gender": "F", "relation": "户主", "id_number": "", "phone": ""})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.reveal_id_number() == "360426199101010071"
    assert r.reveal_sensitive_tags() == ["低保"]


def test_household_can_be_registered_in_own_branch_only(world, client_for):
    client = client_for(world.secretary_a)
    data = {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "甲村一组9号"}
    assert client.post(reverse("org:household_create"), data).status_code == 302
    created = Household.objects.get(address="甲村一组9号")
    assert created.code.startswith(world.branch_a.code)
    response = client.post(reverse("org:household_create"), {**data, "branch": world.branch_b.pk, "grid": world.grid_b.pk,
                                                             "address": "越界"})
    assert response.status_code == 200 and not Household.objects.filter(address="越界").exists()


def test_a_grid_worker_saves_a_household_of_his_grid_and_registers_one_there_but_in_no_other_grid(world, client_for):
    # His writes stop at his grid, so his branch is not his to edit; the form must still offer it (it offered
    # none, and no form of his could be saved).
    w, client = world, client_for(world.grid_worker_a)
    edited = {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组1号之一"}
    assert client.post(reverse("org:household_edit", args=[w.household_a.pk]), edited).status_code == 302
    w.household_a.refresh_from_db()
    assert w.household_a.address == "甲村一组1号之一"
    created = {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组9号"}
    assert client.post(reverse("org:household_create"), created).status_code == 302
    assert Household.objects.get(address="甲村一组9号").grid == w.grid_a
    elsewhere = {**created, "grid": w.grid_a2.pk, "address": "甲村二组9号"}
    assert client.post(reverse("org:household_create"), elsewhere).status_code == 200
    assert not Household.objects.filter(address="甲村二组9号").exists()


def test_household_list_makes_the_same_number_of_queries_for_3_or_30_rows(world, client_for, django_assert_num_queries):
    client = client_for(world.office_admin)
    url = reverse("org:household_list")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(27):
        h = make_household(world.grid_a)
        make_resident(h, f"居民{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_office_staff_creates_a_branch_and_a_grid_with_checked_codes(world, client_for):
    client = client_for(world.office_staff)
    url = reverse("org:branch_create") + f"?office={world.office.pk}"
    bad = client.post(url, {"name": "新村", "kind": "village", "code": "41017310"})
    assert "区划代码应为 12 位数字" in bad.content.decode() and 'value="新村"' in bad.content.decode()
    assert client.post(url, {"name": "新村", "kind": "village", "code": "410173101099"}).status_code == 302
    from lianhu.org.models import Branch, Grid

    branch = Branch.objects.get(name="新村")
    grid_url = reverse("org:grid_create") + f"?branch={branch.pk}"
    wrong = client.post(grid_url, {"name": "一网格", "code": "410173101098001"})
    assert "前 12 位应与支部区划代码" in wrong.content.decode()
    assert client.post(grid_url, {"name": "一网格", "code": "410173101099001"}).status_code == 302
    assert Grid.objects.filter(branch=branch, code="410173101099001").exists()


def test_branch_secretary_cannot_create_branches_in_his_office(world, client_for):
    response = client_for(world.secretary_a).get(reverse("org:branch_create") + f"?office={world.office.pk}")
    assert response.status_code == 404


def test_a_duplicate_id_number_from_another_branch_does_not_say_who_holds_it(world, client_for):
    response = client_for(world.secretary_b).post(reverse("org:resident_create", args=[world.household_b.pk]),
                                                  {"name": "试探", "gender": "F", "relation": "户主",
                                                   "id_number": "360426199101010071"})
    body = response.content.decode()
    assert "无法在此登记" in body
    assert "单雪梅" not in body and world.household_a.code not in body


def test_a_linked_household_cannot_move_to_another_branch(world, client_for):
    response = client_for(world.office_admin).post(reverse("org:household_edit", args=[world.household_a.pk]), {
        "branch": world.branch_b.pk, "grid": world.grid_b.pk, "address": world.household_a.address})
    assert "请先解除联系" in response.content.decode()
    world.household_a.refresh_from_db()
    assert world.household_a.branch_id == world.branch_a.pk


def test_the_household_page_shows_ages_and_reveals_a_birth_date_only_on_request_audited(world, client_for):
    # Security review, finding 3: the full birth date beside the masked ID number is a reveal.
    import datetime as dt

    world.resident_a.birth_date = dt.date(1950, 2, 3)
    world.resident_a.save()
    url = reverse("org:household_detail", args=[world.household_a.pk])
    reveal = reverse("org:reveal", args=["resident", world.resident_a.pk, "birth_date"])
    member_view = client_for(world.member_user).get(url).content.decode()
    assert "1950-02-03" not in member_view and "年龄" in member_view and reveal not in member_view
    secretary = client_for(world.secretary_a)
    secretary_view = secretary.get(url).content.decode()
    assert "1950-02-03" not in secretary_view and reveal in secretary_view
    assert "1950-02-03" in secretary.post(reveal).content.decode()
    assert AuditEntry.objects.filter(action="reveal", field="birth_date", actor=world.secretary_a).count() == 1


def test_out_of_range_house_facts_are_refused_in_chinese(world, client_for):
    response = client_for(world.secretary_a).post(reverse("org:household_edit", args=[world.household_a.pk]), {
        "branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": world.household_a.address,
        "floors": 61, "built_year": 99999, "lng": 1138.2})
    body = response.content.decode()
    assert "层数不能超过 60" in body and "建成年份不正确" in body and "经度应在 -180 到 180 之间" in body


def test_a_user_with_audit_entries_can_still_be_deleted(world):
    from lianhu.audit.models import AuditEntry
    from lianhu.audit.services import audit_log

    audit_log(actor=world.secretary_b, action="login")
    world.secretary_b.delete()
    assert AuditEntry.objects.get(action="login").actor_label == "secretary_b"


@pytest.mark.parametrize("url", ["org:household_list", "members:member_list"])
def test_a_list_filtered_by_another_branch_or_its_grid_is_404(world, client_for, url):
    client = client_for(world.secretary_b)
    assert client.get(reverse(url), {"branch": world.branch_a.pk}).status_code == 404
    assert client.post(reverse(url), {"grid": world.grid_a.pk}).status_code == 404
    assert client.get(reverse(url), {"branch": world.branch_b.pk}).status_code == 200


def test_branch_page_shows_the_figures_other_apps_register_for_it(world, client_for):
    # 甲村: member_a links household_a, household_a2 waits for a member, member_a_exempt cannot serve.
    body = client_for(world.secretary_a).get(reverse("org:branch_detail", args=[world.branch_a.pk])).content.decode()
    for value, label in ((2, "党员"), (1, "联户党员"), (1, "丧失联户能力"), (2, "户"), (1, "待安排联系党员")):
        assert f"<b>{value}</b>{label}</div>" in body
    assert body.index("</b>党员<") < body.index("</b>户<") < body.index("</b>待安排联系党员<")
    assert reverse("members:needs_member") + f"?branch={world.branch_a.pk}" in body  # a link members adds
