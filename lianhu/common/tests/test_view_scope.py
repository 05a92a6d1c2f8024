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
]

CASES = [(name, kw, method) for name, kw, methods in BRANCH_A_URLS for method in methods]
# The office overview is office-wide: branch B's secretary and advisor belong to the same office.
OUTSIDERS = [
    (persona, *case)
    for case in CASES
    for persona in (["other_office_admin"] if case[0] == "dashboard:office_overview"
                    else ["secretary_b", "other_office_admin", "advisor_b"])
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
                                  "dashboard:zone_overview", "accounts:tokens"])
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
