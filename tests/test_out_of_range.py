"""Numbers the database cannot hold, and junk where an id belongs: 404 or 422, never a 500 (finding 6).

An id beyond a signed 64-bit integer makes SQLite raise OverflowError and PostgreSQL "bigint out of
range"; "²" passes str.isdigit() and then fails int(). The web answers 404 (or shows the first or last
page of a list), the API its JSON error shape. The suite runs on both databases (`make test` with and
without DATABASE_URL), so every case here is checked on each.
"""

import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse

from lianhu.accounts.tests.factories import VerifiedClient
from lianhu.audit.models import AuditEntry
from lianhu.common.api import MAX_PAGE, MAX_PAGE_SIZE
from lianhu.common.http import MAX_PK, parse_pk
from lianhu.common.testing import PksOf, api_call
from lianhu.common.views import server_error
from lianhu.members.models import LiaisonLink, PartyMember
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db

PAGE_OF_THE_FINDING = "54295090352939761664"
ID_OF_28_DIGITS = "1" * 28
BRANCH_OF_THE_FINDING = "99999999999999999999"
JUST_OVER = str(MAX_PK + 1)
SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no
NOT_FOUND = {"detail": "未找到，或不在您的管辖范围内"}


def test_parse_pk_takes_only_ascii_numbers_the_database_can_hold():
    assert parse_pk("42") == parse_pk(42) == 42
    assert parse_pk(str(MAX_PK)) == MAX_PK
    for junk in (JUST_OVER, ID_OF_28_DIGITS, "0", "-1", "", "abc", " 1", "1.0", SUPERSCRIPT_TWO, "١", None, True,
                 MAX_PK + 1, 0):
        assert parse_pk(junk) is None, junk


# ---- web pages -------------------------------------------------------------------------------------

LISTS = ["org:household_list", "members:member_list", "members:needs_member", "audit:audit_list"]
READER = {"audit:audit_list": "audit_admin"}  # who opens the list (the others: the office's administrator)
OUT_OF_RANGE = [PAGE_OF_THE_FINDING, JUST_OVER, BRANCH_OF_THE_FINDING, "0", "-1"]  # Django's get_page: the last
JUNK_PAGES = ["abc", "", SUPERSCRIPT_TWO, "1.5", "9" * 5000]  # 5,000 digits are too many for int()


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", OUT_OF_RANGE + JUNK_PAGES)
def test_no_page_number_breaks_a_list(world, client_for, name, page):
    reader = getattr(world, READER.get(name, "office_admin"))
    assert client_for(reader).get(reverse(name), {"page": page}).status_code == 200


@pytest.mark.parametrize("page,shown", [(p, 2) for p in OUT_OF_RANGE] + [(p, 1) for p in JUNK_PAGES])
def test_a_page_number_out_of_range_shows_the_last_page_and_junk_the_first(world, client_for, page, shown):
    from lianhu.org.tests.factories import make_household

    for _ in range(50):
        make_household(world.grid_a)  # 53 households in branch A: two pages of 50
    response = client_for(world.secretary_a).get(reverse("org:household_list"), {"page": page})
    assert response.status_code == 200
    assert (response.context["page"].number, response.context["page"].paginator.num_pages) == (shown, 2)


PAGES_OF_ONE_OBJECT = [
    ("org:household_detail", [ID_OF_28_DIGITS]),
    ("org:household_edit", [JUST_OVER]),
    ("org:branch_detail", [PAGE_OF_THE_FINDING]),
    ("org:grid_detail", [BRANCH_OF_THE_FINDING]),
    ("org:resident_create", [ID_OF_28_DIGITS]),
    ("org:resident_edit", ["{household_a}", JUST_OVER]),
    ("members:member_detail", [BRANCH_OF_THE_FINDING]),
    ("members:proposal_detail", [JUST_OVER]),
    ("dashboard:office_overview", [ID_OF_28_DIGITS]),
    ("transfer:job_detail", [JUST_OVER]),
]


@pytest.mark.parametrize("name,args", PAGES_OF_ONE_OBJECT, ids=[p[0] for p in PAGES_OF_ONE_OBJECT])
def test_an_id_in_the_url_beyond_the_databases_range_is_404(world, client_for, name, args):
    url = reverse(name, args=[int(a.format_map(PksOf(world))) for a in args])
    response = client_for(world.office_admin).get(url)
    assert response.status_code == 404
    assert "不在您的管辖范围内" in response.content.decode()


@pytest.mark.parametrize("name,args", [("members:link_end", [JUST_OVER]), ("members:household_link", [ID_OF_28_DIGITS]),
                                       ("org:reveal", ["resident", ID_OF_28_DIGITS, "phone"])])
def test_a_post_to_an_id_beyond_the_databases_range_is_404_and_writes_nothing(world, client_for, name, args):
    entries = AuditEntry.objects.count()
    response = client_for(world.office_admin).post(reverse(name, args=args), {"member": world.member_a.pk})
    assert response.status_code == 404
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("name", ["org:household_list", "members:member_list"])
@pytest.mark.parametrize("field", ["branch", "grid"])
@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, JUST_OVER, SUPERSCRIPT_TWO])
def test_a_list_filtered_by_a_branch_or_grid_beyond_range_is_the_404_of_an_out_of_scope_one(
    world, client_for, name, field, value
):
    client = client_for(world.secretary_a)
    assert client.get(reverse(name), {field: value}).status_code == 404
    assert client.post(reverse(name), {field: value}).status_code == 404  # the filter form posts
    assert client.get(reverse(name), {field: getattr(world, f"{field}_b").pk}).status_code == 404


@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, SUPERSCRIPT_TWO])
def test_the_export_of_a_list_filtered_by_a_branch_beyond_range_is_404(world, client_for, value):
    response = client_for(world.office_admin).post(reverse("transfer:export", args=["households"]), {"branch": value})
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["org:branch_create", "org:grid_create", "members:proposal_create"])
@pytest.mark.parametrize("param", ["office", "branch"])
@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, SUPERSCRIPT_TWO])
def test_a_parent_in_the_query_string_beyond_range_or_not_a_number_is_404(world, client_for, url, param, value):
    assert client_for(world.office_admin).get(reverse(url), {param: value}).status_code == 404


@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, JUST_OVER, SUPERSCRIPT_TWO])
def test_households_without_a_member_ignore_a_branch_beyond_range(world, client_for, value):
    response = client_for(world.office_admin).get(reverse("members:needs_member"), {"branch": value})
    assert response.status_code == 200
    assert world.household_a2.address in response.content.decode()


@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, SUPERSCRIPT_TWO])
def test_import_pages_for_an_office_beyond_range_are_404(world, client_for, value):
    client = client_for(world.office_admin)
    assert client.get(reverse("transfer:template", args=["households"]), {"office": value}).status_code == 404
    assert client.get(reverse("transfer:upload", args=["households"]), {"office": value}).status_code == 404


@pytest.mark.parametrize("value", [JUST_OVER, SUPERSCRIPT_TWO])
def test_revoking_a_token_beyond_range_changes_nothing(world, client_for, value):
    response = client_for(world.office_admin).post(reverse("accounts:tokens"), {"revoke": value})
    assert response.status_code == 404  # no token of his, as for any other id


@pytest.mark.parametrize("field,value", [("branch", BRANCH_OF_THE_FINDING), ("grid", JUST_OVER)])
def test_a_household_form_with_a_branch_beyond_range_is_shown_again_with_an_error(world, client_for, field, value):
    data = {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "越界户", field: value}
    response = client_for(world.office_admin).post(reverse("org:household_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Household.objects.filter(address="越界户").exists()


# ---- the API ---------------------------------------------------------------------------------------

OBJECT_PATHS = [
    ("get", f"/households/{ID_OF_28_DIGITS}", None),
    ("get", f"/offices/{JUST_OVER}", None),
    ("get", f"/branches/{BRANCH_OF_THE_FINDING}", None),
    ("get", f"/grids/{PAGE_OF_THE_FINDING}", None),
    ("get", f"/residents/{JUST_OVER}", None),
    ("get", f"/members/{BRANCH_OF_THE_FINDING}", None),
    ("get", f"/links/{ID_OF_28_DIGITS}", None),
    ("patch", f"/households/{ID_OF_28_DIGITS}", {"address": "越界"}),
    ("patch", f"/members/{JUST_OVER}", {"name": "越界"}),
    ("post", f"/residents/{ID_OF_28_DIGITS}/reveal", {"field": "phone"}),
    ("post", f"/members/{JUST_OVER}/exempt", {"reason": "病", "since": "2026-01-01", "approved_by": "x"}),
    ("post", f"/links/{PAGE_OF_THE_FINDING}/end", None),
]


@pytest.mark.parametrize("method,path,body", OBJECT_PATHS, ids=[f"{m} {p}" for m, p, _b in OBJECT_PATHS])
def test_an_api_object_beyond_the_databases_range_is_404_in_json(world, client_for, method, path, body):
    response = api_call(client_for(world.office_admin), method, path, body)
    assert response.status_code == 404, response.content
    assert response.json() == NOT_FOUND


BODY_IDS = [
    ("post", "/households", lambda w: {"branch": int(BRANCH_OF_THE_FINDING), "grid": w.grid_a.pk, "address": "越界户"}),
    ("post", "/households", lambda w: {"branch": w.branch_a.pk, "grid": int(JUST_OVER), "address": "越界户"}),
    ("patch", "/households/{household_a}", lambda w: {"grid": int(ID_OF_28_DIGITS)}),
    ("post", "/residents", lambda w: {"household": int(ID_OF_28_DIGITS), "name": "越界", "gender": "M"}),
    ("post", "/members", lambda w: {"branch": int(JUST_OVER), "name": "越界", "gender": "M"}),
    ("patch", "/members/{member_a}", lambda w: {"grid": int(BRANCH_OF_THE_FINDING)}),
    ("post", "/links", lambda w: {"member": int(JUST_OVER), "household": w.household_a2.pk}),
    ("post", "/links", lambda w: {"member": w.member_a.pk, "household": int(ID_OF_28_DIGITS)}),
]


@pytest.mark.parametrize("method,path,body_of", BODY_IDS, ids=[f"{m} {p} {i}" for i, (m, p, _b) in enumerate(BODY_IDS)])
def test_an_id_in_a_body_beyond_range_is_404_and_nothing_is_written(world, client_for, method, path, body_of):
    counts = [m.objects.count() for m in (Household, Resident, PartyMember, LiaisonLink, AuditEntry)]
    response = api_call(client_for(world.office_admin), method, path.format_map(PksOf(world)), body_of(world))
    assert response.status_code == 404, response.content
    assert response.json() == NOT_FOUND
    assert [m.objects.count() for m in (Household, Resident, PartyMember, LiaisonLink, AuditEntry)] == counts


@pytest.mark.parametrize("path,body", [
    ("/households", {"floors": int(PAGE_OF_THE_FINDING)}),
    ("/households", {"built_year": -int(JUST_OVER)}),
    ("/members", {"capacity": int(ID_OF_28_DIGITS)}),
])
def test_a_number_in_a_body_beyond_range_is_422(world, client_for, path, body):
    base = {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "越界户", "name": "越界", "gender": "M"}
    response = api_call(client_for(world.office_admin), "post", path, {**base, **body})
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == set(body)


QUERY_IDS = ["/households?branch=", "/households?grid=", "/branches?office=", "/grids?branch=",
             "/residents?household=", "/members?branch=", "/links?member=", "/links?household="]


@pytest.mark.parametrize("path", QUERY_IDS)
@pytest.mark.parametrize("value", [BRANCH_OF_THE_FINDING, JUST_OVER])
def test_a_list_filter_beyond_range_is_422_in_json(world, client_for, path, value):
    response = api_call(client_for(world.office_admin), "get", path + value)
    assert response.status_code == 422, response.content
    field = path.rpartition("?")[2].rstrip("=")
    assert response.json()["errors"] == {field: ["数值太大"]}


@pytest.mark.parametrize("path", ["/households", "/members", "/links", "/offices"])
def test_an_api_page_number_beyond_reason_is_422_and_a_page_past_the_end_is_empty(world, client_for, path):
    client = client_for(world.office_admin)
    response = api_call(client, "get", f"{path}?page={PAGE_OF_THE_FINDING}")
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"page": ["数值太大"]}
    response = api_call(client, "get", f"{path}?page=1000000&page_size={PAGE_OF_THE_FINDING}")
    assert response.status_code == 422 and response.json()["errors"] == {"page_size": ["数值太大"]}
    response = api_call(client, "get", f"{path}?page={MAX_PAGE}&page_size={MAX_PAGE_SIZE}")
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/xyz", "/api/v1/households/-1", "/api/v1/households/abc/", "/api/v2/",
                                  "/api/"])
def test_an_unknown_api_path_is_a_json_404(world, client_for, path):
    response = client_for(world.office_admin).get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == NOT_FOUND


def test_an_unknown_page_outside_the_api_is_still_the_html_404(world, client_for):
    response = client_for(world.office_admin).get("/org/xyz/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html") and "不在您的管辖范围内" in response.content.decode()


def test_an_unhandled_error_in_the_api_is_a_logged_json_500(world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("lianhu.org.api.scoped_get", broken)
    client = VerifiedClient(raise_request_exception=False)
    client.force_login(world.office_admin)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api_call(client, "get", f"/offices/{world.office.pk}")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "服务器内部错误"}
    logged = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info[0] is RuntimeError


@pytest.mark.parametrize("error,status,detail", [
    ("PermissionDenied", 403, "无权进行此操作"),
    ("RequestDataTooBig", 400, "请求无效"),
])
def test_djangos_refusals_raised_in_the_api_keep_their_status_in_json(world, client_for, monkeypatch, error, status,
                                                                      detail):
    from django.core import exceptions

    def refuse(*args, **kwargs):
        raise getattr(exceptions, error)()

    monkeypatch.setattr("lianhu.org.api.scoped_get", refuse)
    response = api_call(client_for(world.office_admin), "get", f"/offices/{world.office.pk}")
    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_djangos_own_500_is_json_under_the_api_and_the_html_page_elsewhere():
    factory = RequestFactory()
    api_response = server_error(factory.get("/api/v1/households"))
    assert api_response.status_code == 500 and api_response["Content-Type"].startswith("application/json")
    page = server_error(factory.get("/org/households/"))
    assert page.status_code == 500 and "系统出错了" in page.content.decode()
