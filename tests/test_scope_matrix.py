"""Every web view answers 404 to a user of another branch or office, for GET and for POST."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# (url name, kwargs builder from the world, methods): every object here belongs to branch A of 甲办事处.
BRANCH_A_URLS = [
    ("dashboard:office_overview", lambda w: {"pk": w.office.pk}, ["get"]),
    ("org:branch_detail", lambda w: {"pk": w.branch_a.pk}, ["get"]),
    ("org:branch_edit", lambda w: {"pk": w.branch_a.pk}, ["get", "post"]),
    ("org:grid_detail", lambda w: {"pk": w.grid_a.pk}, ["get"]),
    ("org:grid_edit", lambda w: {"pk": w.grid_a.pk}, ["get", "post"]),
    ("org:household_detail", lambda w: {"pk": w.household_a.pk}, ["get"]),
    ("org:household_edit", lambda w: {"pk": w.household_a.pk}, ["get", "post"]),
    ("org:resident_create", lambda w: {"household_pk": w.household_a.pk}, ["get", "post"]),
    ("org:resident_edit", lambda w: {"household_pk": w.household_a.pk, "pk": w.resident_a.pk}, ["get", "post"]),
    ("org:reveal", lambda w: {"kind": "resident", "pk": w.resident_a.pk, "field": "id_number"}, ["post"]),
    ("org:reveal", lambda w: {"kind": "member", "pk": w.member_a.pk, "field": "phone"}, ["post"]),
    ("members:member_detail", lambda w: {"pk": w.member_a.pk}, ["get"]),
    ("members:member_edit", lambda w: {"pk": w.member_a.pk}, ["get", "post"]),
    ("members:member_exempt", lambda w: {"pk": w.member_a.pk}, ["get", "post"]),
    ("members:member_reinstate", lambda w: {"pk": w.member_a_exempt.pk}, ["post"]),
    ("members:member_left", lambda w: {"pk": w.member_a.pk}, ["get", "post"]),
    ("members:household_link", lambda w: {"household_pk": w.household_a2.pk}, ["post"]),
    ("members:link_end", lambda w: {"pk": w.link_a.pk}, ["post"]),
    ("accounts:password_reset", lambda w: {"pk": w.member_user.pk}, ["get", "post"]),
]

CASES = [(name, kw, method) for name, kw, methods in BRANCH_A_URLS for method in methods]
# The office overview is office-wide: branch B's secretary and advisor belong to the same office. The office's
# audit administrator is inside it, but its business pages are not his (三员分立: he reads its log only).
OUTSIDERS = [
    (persona, *case)
    for case in CASES
    for persona in (["other_office_admin", "audit_admin"] if case[0] == "dashboard:office_overview"
                    else ["secretary_b", "other_office_admin", "advisor_b", "audit_admin"])
]


@pytest.mark.parametrize("persona,name,kwargs,method", OUTSIDERS, ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in OUTSIDERS])
def test_users_outside_branch_a_get_404(world, client, persona, name, kwargs, method):
    client.force_login(getattr(world, persona))
    url = reverse(name, kwargs=kwargs(world))
    response = getattr(client, method)(url, {"member": world.member_a.pk, "name": "x"} if method == "post" else None)
    assert response.status_code == 404


@pytest.mark.parametrize("name,kwargs,method", [c for c in CASES if c[2] == "get"],
                         ids=[f"{c[0]}" for c in CASES if c[2] == "get"])
def test_office_admin_can_open_every_page_of_branch_a(world, client, name, kwargs, method):
    client.force_login(world.office_admin)
    response = client.get(reverse(name, kwargs=kwargs(world)))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["dashboard:home", "org:branch_list", "org:household_list", "members:member_list",
                                  "members:needs_member", "audit:audit_list", "dashboard:my_households",
                                  "dashboard:zone_overview", "accounts:tokens", "accounts:password_change",
                                  "accounts:user_list"])
def test_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_member_sees_his_own_household_but_not_an_unlinked_one_of_his_branch(world, client):
    client.force_login(world.member_user)
    assert client.get(reverse("org:household_detail", args=[world.household_a.pk])).status_code == 200
    assert client.get(reverse("org:household_detail", args=[world.household_a2.pk])).status_code == 404
    assert client.get(reverse("org:household_detail", args=[world.household_b.pk])).status_code == 404
    assert client.get(reverse("members:member_detail", args=[world.member_b.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["member_user", "advisor_b", "zone_admin"])
def test_read_only_roles_get_404_on_writes_inside_their_scope(world, client, persona):
    client.force_login(getattr(world, persona))
    target = world.household_a if persona != "advisor_b" else world.household_b
    assert client.get(reverse("org:household_edit", args=[target.pk])).status_code == 404
    assert client.post(reverse("org:reveal", args=["resident", target.residents.first().pk, "phone"])).status_code == 404


def test_not_found_page_is_in_chinese(world, client, settings):
    settings.DEBUG = False
    client.force_login(world.secretary_b)
    response = client.get(reverse("org:household_detail", args=[world.household_a.pk]))
    assert response.status_code == 404 and "不在您的管辖范围内" in response.content.decode()


CREATE_URLS = [
    ("org:branch_create", lambda w: f"?office={w.office.pk}"),
    ("org:grid_create", lambda w: f"?branch={w.branch_a.pk}"),
]


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "advisor_b", "grid_worker_a", "member_user"])
@pytest.mark.parametrize("name,query", CREATE_URLS, ids=[c[0] for c in CREATE_URLS])
def test_creating_under_branch_a_or_its_office_is_404_for_those_without_that_right(world, client, persona, name, query):
    client.force_login(getattr(world, persona))
    url = reverse(name) + query(world)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "越权", "code": "410173999999", "kind": "village"}).status_code == 404


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "advisor_b", "member_user"])
def test_households_and_members_cannot_be_created_in_branch_a_from_outside(world, client, persona):
    from lianhu.members.models import PartyMember
    from lianhu.org.models import Household

    client.force_login(getattr(world, persona))
    client.post(reverse("org:household_create"), {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "越权户"})
    client.post(reverse("members:member_create"), {"branch": world.branch_a.pk, "name": "越权党员", "gender": "M",
                                                   "capacity": 10})
    assert not Household.objects.filter(address="越权户").exists()
    assert not PartyMember.objects.filter(name="越权党员").exists()


def test_grid_worker_edits_his_grid_but_not_the_other_grid_of_his_branch(world, client):
    client.force_login(world.grid_worker_a)
    assert client.get(reverse("org:household_edit", args=[world.household_a.pk])).status_code == 200
    assert client.get(reverse("org:household_edit", args=[world.household_a2.pk])).status_code == 404
    assert client.get(reverse("org:household_detail", args=[world.household_a2.pk])).status_code == 404
    assert client.get(reverse("org:grid_edit", args=[world.grid_a.pk])).status_code == 404
    assert client.get(reverse("org:branch_detail", args=[world.branch_a.pk])).status_code == 200


def test_junk_ids_in_query_strings_are_404_not_500(world, client):
    client.force_login(world.office_admin)
    assert client.get(reverse("org:branch_create") + "?office=abc").status_code == 404
    assert client.get(reverse("org:grid_create") + "?branch=abc").status_code == 404
    assert client.post(reverse("accounts:tokens"), {"revoke": "abc"}).status_code == 302


# ---- the matrix is complete ----------------------------------------------------------------------
# Every named URL and every API operation has its place here: in the tables above (an object of branch
# A: 404 outside it), or below with the test that shows its scope elsewhere, or why it has none. A new
# page or endpoint without an entry fails `test_every_url_has_an_entry_in_the_scope_matrix`.

SCOPED_ELSEWHERE = {  # url name → the test that gives an outsider 404 (or only his own rows)
    "dashboard:home": "dashboard/tests/test_views.py (each role is sent to its own page)",
    "dashboard:zone_overview": "dashboard/tests/test_views.py (the zone's offices only)",
    "dashboard:my_households": "dashboard/tests/test_views.py (the member's own households)",
    "org:branch_list": "org/tests/test_views.py (scoped list)",
    "org:household_list": "test_a_list_filtered_by_another_branch_or_its_grid_is_404",
    "org:branch_create": "test_creating_under_branch_a_or_its_office_is_404_for_those_without_that_right",
    "org:grid_create": "test_creating_under_branch_a_or_its_office_is_404_for_those_without_that_right",
    "org:household_create": "test_households_and_members_cannot_be_created_in_branch_a_from_outside",
    "members:member_list": "test_a_list_filtered_by_another_branch_or_its_grid_is_404",
    "members:member_create": "test_households_and_members_cannot_be_created_in_branch_a_from_outside",
    "members:needs_member": "members/tests/test_views.py (households the user manages)",
    "members:proposal_create": "members/tests/test_proposals.py",
    "members:proposal_detail": "test_users_outside_branch_a_get_404_for_its_proposal",
    "members:proposal_apply": "test_users_outside_branch_a_get_404_for_its_proposal",
    "members:proposal_discard": "test_users_outside_branch_a_get_404_for_its_proposal",
    "audit:audit_list": "test_another_office_or_junk_as_office_is_404_on_the_page_and_the_export",
    "transfer:template": "test_read_only_roles_get_404_for_templates_and_uploads",
    "transfer:upload": "test_another_offices_admin_cannot_upload_into_this_office",
    "transfer:export": "test_the_export_follows_the_lists_filters_and_scope",
    "transfer:job_detail": "test_someone_elses_import_job_is_404",
    "transfer:job_progress": "test_someone_elses_import_job_is_404",
    "transfer:job_confirm": "test_someone_elses_import_job_is_404",
    "transfer:job_problems": "test_someone_elses_import_job_is_404",
    "accounts:tokens": "accounts/tests/test_api_token.py (a user's own tokens only)",
    "accounts:user_list": "test_the_user_list_shows_whom_one_may_reset",
    "accounts:second_factor_users": "test_the_second_factor_list_shows_whom_one_may_reset",
    "accounts:second_factor_reset": "test_only_an_admin_above_him_in_scope_resets_a_second_factor",
}
NOT_SCOPED = {  # url name → why it holds no hierarchy data
    "accounts:login": "the login page",
    "accounts:logout": "logging out",
    "accounts:password_change": "one's own password",
    "accounts:second_factor": "one's own second factor",
    "accounts:second_factor_enrol": "one's own second factor",
    "accounts:recovery_codes": "one's own recovery codes",
}
API_SCOPED_ELSEWHERE = {  # "METHOD /path" → the test
    "POST /residents/search": "org/tests/test_api.py (search finds only residents in scope; audited)",
    "POST /members/search": "members/tests/test_api.py (search finds only members in scope; audited)",
}


def _url_names(patterns, namespace=""):
    from django.urls import URLPattern, URLResolver

    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            if ns in ("admin", "api"):  # Django's admin (superusers); the API is checked operation by operation
                continue
            yield from _url_names(p.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(p, URLPattern) and p.name:
            yield namespace + p.name


def test_every_url_has_an_entry_in_the_scope_matrix():
    from django.urls import get_resolver

    covered = {name for name, _kw, _m in BRANCH_A_URLS} | set(SCOPED_ELSEWHERE) | set(NOT_SCOPED)
    names = set(_url_names(get_resolver().url_patterns))
    assert len(names) > 40 and "org:household_detail" in names  # the walk found the app's URLs
    missing = sorted(names - covered)
    assert missing == [], f"URLs without an out-of-scope test: {missing}"


def _shape(method: str, path: str) -> str:
    """GET /members/{member_a} and GET /api/v1/members/{member_id} alike: GET /members/{}."""
    import re

    return f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path.removeprefix('/api/v1'))}"


def test_every_api_operation_has_an_entry_in_the_scope_matrix():
    from config.api import api
    from lianhu.members.tests import test_api as members_api
    from lianhu.org.tests import test_api as org_api

    covered = {_shape(m, u) for module in (org_api, members_api) for m, u, *_rest in module.ENDPOINTS}
    covered |= {_shape("get", u) for module in (org_api, members_api) for u, *_rest in module.LISTS}
    covered |= {_shape(*entry.split(" ", 1)) for entry in API_SCOPED_ELSEWHERE}
    operations = {_shape(method, path) for path, item in api.get_openapi_schema()["paths"].items() for method in item}
    assert len(operations) > 20 and "GET /households/{}" in operations
    assert sorted(operations - covered) == [], "API operations without an out-of-scope test"
