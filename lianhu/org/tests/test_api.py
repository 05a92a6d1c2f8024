import pytest

from lianhu.audit.models import AuditEntry
from lianhu.common.testing import API, PksOf, api_call, api_ids, valid_id_number
from lianhu.org.tests.factories import make_resident
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db

call, ids = api_call, api_ids


# Every endpoint, with an object of branch A (or office A), a persona who may use it on that object
# (and the status he gets), and personas on the other side of the boundary, for whom it does not exist.
ENDPOINTS = [
    ("get", "/offices/{office}", None, "secretary_a", 200, ["other_office_admin"]),
    ("get", "/branches/{branch_a}", None, "secretary_a", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("get", "/grids/{grid_a}", None, "grid_worker_a", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("get", "/grids/{grid_a2}", None, "secretary_a", 200, ["grid_worker_a", "secretary_b"]),
    ("get", "/households/{household_a}", None, "member_user", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("get", "/households/{household_a2}", None, "secretary_a", 200, ["member_user", "grid_worker_a"]),
    ("post", "/households", lambda w: {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组9号"},
     "secretary_a", 201, ["secretary_b", "member_user", "advisor_b", "zone_admin", "other_office_admin"]),
    ("patch", "/households/{household_a}", lambda w: {"address": "甲村一组10号"},
     "grid_worker_a", 200, ["secretary_b", "member_user", "advisor_b", "zone_admin", "other_office_admin"]),
    ("get", "/residents/{resident_a}", None, "member_user", 200, ["secretary_b", "advisor_b", "other_office_admin"]),
    ("post", "/residents", lambda w: {"household": w.household_a.pk, "name": "王小明", "gender": "M"},
     "secretary_a", 201, ["secretary_b", "member_user", "advisor_b", "zone_admin", "other_office_admin"]),
    ("patch", "/residents/{resident_a}", lambda w: {"name": "单雪莲"},
     "office_staff", 200, ["secretary_b", "member_user", "zone_admin", "other_office_admin"]),
    ("post", "/residents/{resident_a}/reveal", lambda w: {"field": "phone"},
     "secretary_a", 200, ["secretary_b", "member_user", "advisor_b", "zone_admin", "other_office_admin"]),
]


@pytest.mark.parametrize(
    "method,url,body_of,outsider",
    [pytest.param(m, u, b, o, id=f"{m.upper()} {u} as {o}") for m, u, b, _i, _s, outs in ENDPOINTS for o in outs],
)
def test_an_object_outside_the_users_scope_answers_404_and_nothing_is_written(
    world, client_for, method, url, body_of, outsider
):
    entries = AuditEntry.objects.count()
    households, residents = Household.objects.count(), Resident.objects.count()
    client = client_for(getattr(world, outsider))
    response = call(client, method, url.format_map(PksOf(world)), body_of(world) if body_of else None)
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "未找到，或不在您的管辖范围内"}
    assert AuditEntry.objects.count() == entries
    assert (Household.objects.count(), Resident.objects.count()) == (households, residents)


@pytest.mark.parametrize(
    "method,url,body_of,insider,status",
    [pytest.param(m, u, b, i, s, id=f"{m.upper()} {u} as {i}") for m, u, b, i, s, _outs in ENDPOINTS],
)
def test_the_same_endpoint_works_for_a_user_inside_the_scope(world, client_for, method, url, body_of, insider, status):
    client = client_for(getattr(world, insider))
    response = call(client, method, url.format_map(PksOf(world)), body_of(world) if body_of else None)
    assert response.status_code == status, response.content


LISTS = [
    ("/offices", "secretary_a", lambda w: {w.office.pk}),
    ("/offices", "other_office_admin", lambda w: {w.other_office.pk}),
    ("/branches", "office_admin", lambda w: {w.branch_a.pk, w.branch_b.pk}),
    ("/branches", "advisor_b", lambda w: {w.branch_b.pk}),
    ("/grids", "secretary_b", lambda w: {w.grid_b.pk}),
    ("/grids", "grid_worker_a", lambda w: {w.grid_a.pk}),
    ("/households", "office_admin", lambda w: {w.household_a.pk, w.household_a2.pk, w.household_b.pk}),
    ("/households", "secretary_a", lambda w: {w.household_a.pk, w.household_a2.pk}),
    ("/households", "secretary_b", lambda w: {w.household_b.pk}),
    ("/households", "member_user", lambda w: {w.household_a.pk}),
    ("/households", "grid_worker_a", lambda w: {w.household_a.pk}),
    ("/households", "advisor_b", lambda w: {w.household_b.pk}),
    ("/households", "other_office_admin", lambda w: {w.household_other.pk}),
    ("/residents", "secretary_a", lambda w: {w.resident_a.pk}),
    ("/residents", "secretary_b", lambda w: {w.resident_b.pk}),
    ("/residents", "member_user", lambda w: {w.resident_a.pk}),
]


@pytest.mark.parametrize("url,persona,expected", [pytest.param(*case, id=f"{case[0]} as {case[1]}") for case in LISTS])
def test_lists_contain_only_rows_in_the_users_scope(world, client_for, url, persona, expected):
    assert ids(call(client_for(getattr(world, persona)), "get", url)) == expected(world)


def test_filtering_by_a_branch_out_of_scope_finds_nothing_rather_than_leaking_it(world, client_for):
    client = client_for(world.secretary_a)
    assert ids(call(client, "get", f"/households?branch={world.branch_b.pk}")) == set()
    assert ids(call(client, "get", f"/grids?branch={world.branch_b.pk}")) == set()
    assert ids(call(client, "get", f"/residents?household={world.household_b.pk}")) == set()


def test_branches_and_grids_filter_by_their_parent(world, client_for):
    client = client_for(world.zone_admin)
    assert ids(call(client, "get", f"/branches?office={world.other_office.pk}")) == {world.branch_other.pk}
    assert ids(call(client, "get", f"/grids?branch={world.branch_a.pk}")) == {world.grid_a.pk, world.grid_a2.pk}


def test_households_filter_by_grid_by_link_and_by_address_or_code(world, client_for):
    w = world
    client = client_for(w.office_admin)
    assert ids(call(client, "get", f"/households?grid={w.grid_a2.pk}")) == {w.household_a2.pk}
    assert ids(call(client, "get", "/households?linked=false")) == {w.household_a2.pk}
    assert ids(call(client, "get", "/households?linked=true")) == {w.household_a.pk, w.household_b.pk}
    assert ids(call(client, "get", "/households?q=二组")) == {w.household_a2.pk}
    assert ids(call(client, "get", f"/households?q={w.household_b.code}")) == {w.household_b.pk}


def test_a_household_shows_its_active_member(world, client_for):
    w = world
    client = client_for(w.secretary_a)
    body = call(client, "get", f"/households/{w.household_a.pk}").json()
    assert body["active_member"] == {"id": w.member_a.pk, "name": "李建国"}
    assert body["branch"] == {"id": w.branch_a.pk, "name": "甲村"}
    assert call(client, "get", f"/households/{w.household_a2.pk}").json()["active_member"] is None


def test_a_secretary_creates_a_household_in_his_branch_with_a_generated_code_and_an_audit_entry(world, client_for):
    w = world
    response = call(client_for(w.secretary_a), "post", "/households",
                    {"branch": w.branch_a.pk, "grid": w.grid_a2.pk, "address": "甲村二组8号", "floors": 3})
    assert response.status_code == 201, response.content
    body = response.json()
    household = Household.objects.get(pk=body["id"])
    assert household.code.startswith(w.branch_a.code) and body["code"] == household.code
    assert (household.address, household.floors, household.grid) == ("甲村二组8号", 3, w.grid_a2)
    entry = AuditEntry.objects.get(action="create", object_type="org.household", object_id=str(household.pk))
    assert (entry.actor, entry.ip) == (w.secretary_a, "127.0.0.1")


def test_a_grid_of_another_branch_in_scope_is_refused_with_409_and_a_chinese_message(world, client_for):
    w = world
    count = Household.objects.count()
    response = call(client_for(w.office_admin), "post", "/households",
                    {"branch": w.branch_a.pk, "grid": w.grid_b.pk, "address": "甲村一组9号"})
    assert response.status_code == 409
    assert response.json() == {"detail": "网格不属于所选支部", "errors": {"grid": ["网格不属于所选支部"]}}
    assert Household.objects.count() == count


def test_a_grid_worker_creates_a_household_in_his_grid_but_not_in_another_grid_of_his_branch(world, client_for):
    w = world
    client = client_for(w.grid_worker_a)
    response = call(client, "post", "/households", {"branch": w.branch_a.pk, "grid": w.grid_a2.pk, "address": "甲村二组9号"})
    assert response.status_code == 404
    response = call(client, "post", "/households", {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组9号"})
    assert response.status_code == 201, response.content
    assert Household.objects.get(address="甲村一组9号").grid == w.grid_a
    moved = call(client, "patch", f"/households/{response.json()['id']}", {"branch": w.branch_b.pk})
    assert moved.status_code == 404


def test_a_request_that_does_not_match_the_schema_gets_422_by_field_in_chinese(world, client_for):
    response = call(client_for(world.secretary_a), "post", "/households", {"branch": "甲", "grid": world.grid_a.pk})
    assert response.status_code == 422
    assert response.json()["errors"] == {"branch": ["应为整数"], "address": ["必填"]}


def test_patching_a_household_changes_only_the_given_fields(world, client_for):
    w = world
    response = call(client_for(w.secretary_a), "patch", f"/households/{w.household_a.pk}",
                    {"self_built": True, "floors": 4})
    assert response.status_code == 200, response.content
    w.household_a.refresh_from_db()
    assert (w.household_a.self_built, w.household_a.floors, w.household_a.address) == (True, 4, "甲村一组1号")


def test_null_is_refused_for_a_field_that_cannot_be_empty_and_clears_one_that_can(world, client_for):
    w = world
    w.household_a.floors = 2
    w.household_a.save()
    client = client_for(w.secretary_a)
    response = call(client, "patch", f"/households/{w.household_a.pk}", {"address": None, "grid": None})
    assert response.status_code == 422
    assert response.json()["errors"] == {"address": ["应为文本"], "grid": ["应为整数"]}
    assert call(client, "patch", f"/households/{w.household_a.pk}", {"floors": None}).json()["floors"] is None


def test_a_household_cannot_be_moved_to_a_branch_out_of_the_writers_scope(world, client_for):
    w = world
    response = call(client_for(w.secretary_a), "patch", f"/households/{w.household_a.pk}",
                    {"branch": w.branch_b.pk, "grid": w.grid_b.pk})
    assert response.status_code == 404
    w.household_a.refresh_from_db()
    assert w.household_a.branch == w.branch_a


SECRET_KEYS = {"id_number_cipher", "id_number_hash", "phone_cipher", "phone_hash", "sensitive_tags_cipher",
               "sensitive_tags", "id_number", "phone"}


def test_residents_are_listed_masked_without_cipher_hash_or_sensitive_tags(world, client_for):
    response = call(client_for(world.secretary_a), "get", "/residents")
    text = response.content.decode()
    [row] = response.json()["items"]
    assert not SECRET_KEYS & set(row)
    assert row["id_number_masked"] == "360*************71"
    assert row["phone_masked"] == "139****5678"
    assert row["care_tags"] == ["独居老人"]
    assert "360426199101010071" not in text and "13912345678" not in text
    assert "低保" not in text
    assert world.resident_a.id_number_cipher not in text and world.resident_a.id_number_hash not in text


def test_a_resident_is_found_by_the_exact_id_number_only(world, client_for):
    client = client_for(world.secretary_a)
    assert ids(call(client, "post", "/residents/search", {"id_number": "360426199101010071"})) == {world.resident_a.pk}
    assert ids(call(client, "post", "/residents/search", {"id_number": "３６０４２６１９９１０１０１００７１"})) == {world.resident_a.pk}
    assert ids(call(client, "post", "/residents/search", {"id_number": "36042619910101007"})) == set()
    lookups = AuditEntry.objects.filter(action="lookup", actor=world.secretary_a)
    assert lookups.count() == 3 and "360426199101010071" not in str(list(lookups.values_list("detail", flat=True)))


def test_id_number_search_does_not_reach_outside_the_scope(world, client_for):
    assert ids(call(client_for(world.secretary_b), "post", "/residents/search", {"id_number": "360426199101010071"})) == set()
    number = valid_id_number("19700101")
    world.member_a.set_id_number(number)
    world.member_a.save()
    assert ids(call(client_for(world.secretary_a), "post", "/members/search", {"id_number": number})) == {world.member_a.pk}
    assert ids(call(client_for(world.secretary_b), "post", "/members/search", {"id_number": number})) == set()


def test_an_id_number_ending_in_a_lower_case_x_finds_the_resident(world, client_for):
    number = next(n for n in (valid_id_number(serial=s) for s in range(1, 200)) if n.endswith("X"))
    resident = make_resident(world.household_a2, "王秀英", id_number=number)
    client = client_for(world.secretary_a)
    assert ids(call(client, "post", "/residents/search", {"id_number": number.lower()})) == {resident.pk}


def test_a_resident_is_found_by_part_of_the_name_or_the_start_of_its_pinyin_initials(world, client_for):
    client = client_for(world.office_admin)
    assert ids(call(client, "get", "/residents?q=雪梅")) == {world.resident_a.pk}
    assert ids(call(client, "get", "/residents?q=SX")) == {world.resident_a.pk}  # 单 read as shan
    assert ids(call(client, "get", "/residents?q=zgq")) == {world.resident_b.pk}  # 曾 read as zeng


@pytest.mark.parametrize("field,value", [("id_number", "360426199101010071"), ("phone", "13912345678"),
                                         ("sensitive_tags", "低保")])
def test_a_secretary_reveals_a_masked_field_and_the_reveal_is_audited(world, client_for, field, value):
    response = call(client_for(world.secretary_a), "post", f"/residents/{world.resident_a.pk}/reveal",
                    {"field": field})
    assert response.status_code == 200, response.content
    assert response.json() == {"field": field, "value": value}
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.actor, entry.object_id, entry.field, entry.ip) == (
        world.secretary_a, str(world.resident_a.pk), field, "127.0.0.1")


@pytest.mark.parametrize("persona", ["member_user", "advisor_b", "zone_admin", "secretary_b"])
def test_users_who_may_not_reveal_get_404_and_no_audit_entry(world, client_for, persona):
    response = call(client_for(getattr(world, persona)), "post", f"/residents/{world.resident_a.pk}/reveal",
                    {"field": "id_number"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_revealing_a_field_that_is_not_revealable_is_422(world, client_for):
    response = call(client_for(world.secretary_a), "post", f"/residents/{world.resident_a.pk}/reveal",
                    {"field": "id_number_cipher"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["field"]


def test_a_resident_is_created_with_sealed_data_and_shown_masked(world, client_for):
    w = world
    response = call(client_for(w.secretary_a), "post", "/residents", {
        "household": w.household_a2.pk, "name": "王小明", "gender": "M", "relation": "子女",
        "id_number": "11010519491231002x", "phone": "138 0013 8000", "care_tags": ["留守儿童"],
        "sensitive_tags": ["残疾人"],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["id_number_masked"], body["phone_masked"], body["care_tags"]) == (
        "110*************2X", "138****8000", ["留守儿童"])
    resident = Resident.objects.get(pk=body["id"])
    assert (resident.reveal_id_number(), resident.reveal_sensitive_tags(), resident.name_initials) == (
        "11010519491231002X", ["残疾人"], "wxm")


def test_an_invalid_id_number_is_refused_with_422_and_the_message_on_its_field(world, client_for):
    count = Resident.objects.count()
    response = call(client_for(world.secretary_a), "post", "/residents", {
        "household": world.household_a2.pk, "name": "王小明", "gender": "M", "id_number": "360426199101010072"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"id_number": ["身份证号 360*************72 校验位不正确"]}
    assert Resident.objects.count() == count


def test_an_id_number_already_registered_is_refused_with_where_it_is(world, client_for):
    response = call(client_for(world.secretary_a), "post", "/residents", {
        "household": world.household_a2.pk, "name": "单雪梅", "gender": "F", "id_number": "360426199101010071"})
    assert response.status_code == 409
    assert response.json()["detail"] == f"该身份证号已登记：{world.household_a.code}（单雪梅）"


def test_an_unknown_care_tag_is_refused(world, client_for):
    response = call(client_for(world.secretary_a), "patch", f"/residents/{world.resident_a.pk}",
                    {"care_tags": ["不存在的标签"]})
    assert response.status_code == 422
    assert response.json()["errors"] == {"care_tags.0": ["取值不在允许范围内"]}


def test_patching_a_resident_keeps_sealed_fields_that_are_not_sent(world, client_for):
    w = world
    response = call(client_for(w.grid_worker_a), "patch", f"/residents/{w.resident_a.pk}",
                    {"phone": "13700002222", "care_tags": []})
    assert response.status_code == 200, response.content
    w.resident_a.refresh_from_db()
    assert (w.resident_a.reveal_phone(), w.resident_a.reveal_id_number(), w.resident_a.care_tags) == (
        "13700002222", "360426199101010071", [])
    assert w.resident_a.reveal_sensitive_tags() == ["低保"]


def test_chinese_is_sent_as_utf8_not_as_unicode_escapes(world, client_for):
    response = call(client_for(world.secretary_a), "get", f"/households/{world.household_a.pk}")
    assert response["Content-Type"].startswith("application/json")
    text = response.content.decode("utf-8")
    assert "甲村一组1号" in text and "\\u" not in text


def test_lists_are_paginated_by_50_and_at_most_200_which_the_schema_states(world, client_for):
    grid = world.grid_a2
    Household.objects.bulk_create(
        Household(branch=grid.branch, grid=grid, code=f"{grid.branch.code}{n:04d}", address=f"甲村二组{n}号")
        for n in range(5000, 5208)
    )
    client = client_for(world.secretary_a)
    first = call(client, "get", "/households").json()
    assert (first["count"], len(first["items"])) == (210, 50)
    assert len(call(client, "get", "/households?page=5").json()["items"]) == 10
    assert len(call(client, "get", "/households?page_size=200").json()["items"]) == 200
    response = call(client, "get", "/households?page_size=201")
    assert (response.status_code, response.json()["errors"]) == (422, {"page_size": ["数值太大"]})


def test_the_openapi_document_loads_and_lists_the_paths(client):
    response = client.get(API + "/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/offices", "/api/v1/branches/{branch_id}", "/api/v1/grids", "/api/v1/households",
                 "/api/v1/households/{household_id}", "/api/v1/residents/{resident_id}/reveal", "/api/v1/members",
                 "/api/v1/members/{member_id}/exempt", "/api/v1/links", "/api/v1/links/{link_id}/end"):
        assert path in paths
    assert set(paths["/api/v1/households/{household_id}"]) == {"get", "patch"}


def test_no_list_or_detail_gives_the_birth_date_it_is_revealed_one_person_at_a_time_and_audited(world, client_for):
    # Security review, finding 3: a grid worker listed 200 residents' birth dates and masked ID numbers,
    # enough to rebuild the numbers, and no reveal was recorded.
    import datetime as dt

    world.resident_a.birth_date = dt.date(1950, 2, 3)
    world.resident_a.save()
    for persona in ("member_user", "secretary_a", "grid_worker_a"):
        client = client_for(getattr(world, persona))
        one = call(client, "get", f"/residents/{world.resident_a.pk}").json()
        listed = call(client, "get", "/residents").json()["items"]
        for row in [one, *listed]:
            assert "birth_date" not in row and "1950-02-03" not in str(row)
        assert one["birth_year"] == 1950 and one["age"] >= 76
    reveals = AuditEntry.objects.filter(action="reveal", field="birth_date")
    revealed = call(client_for(world.grid_worker_a), "post", f"/residents/{world.resident_a.pk}/reveal",
                    {"field": "birth_date"})
    assert revealed.json() == {"field": "birth_date", "value": "1950-02-03"}
    assert reveals.count() == 1 and reveals.get().actor == world.grid_worker_a
    assert call(client_for(world.member_user), "post", f"/residents/{world.resident_a.pk}/reveal",
                {"field": "birth_date"}).status_code == 404


def test_a_body_that_is_not_json_gets_a_chinese_400(world, client_for):
    response = client_for(world.secretary_a).post(API + "/residents", data="{oops", content_type="application/json")
    assert response.status_code == 400 and "无法解析" in response.json()["detail"]
