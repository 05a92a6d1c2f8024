"""Every page about one object is built on the scoped base view, and keeps its login and method rules."""

import pytest
from django.urls import get_resolver, reverse

from lianhu.common.views import ScopedObjectView

pytestmark = pytest.mark.django_db

LISTS = {"org:branch_list", "org:household_list", "members:member_list", "members:needs_member"}
POST_ONLY = [
    ("org:reveal", lambda w: {"kind": "resident", "pk": w.resident_a.pk, "field": "id_number"}),
    ("members:member_reinstate", lambda w: {"pk": w.member_a_exempt.pk}),
    ("members:household_link", lambda w: {"household_pk": w.household_a2.pk}),
    ("members:link_end", lambda w: {"pk": w.link_a.pk}),
]


def _views(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return {f"{namespace}:{p.name}": p.callback for p in resolver.url_patterns}


def test_every_org_and_members_page_but_the_lists_is_a_scoped_object_view():
    views = {**_views("org"), **_views("members")}
    assert LISTS <= set(views)
    for name, view in views.items():
        if name not in LISTS:
            assert issubclass(getattr(view, "view_class", type(None)), ScopedObjectView), name


@pytest.mark.parametrize("persona", ["office_admin", "secretary_b"])
@pytest.mark.parametrize("name,kwargs", POST_ONLY, ids=[c[0] for c in POST_ONLY])
def test_a_get_to_a_post_only_page_is_405_in_scope_or_not(world, client, persona, name, kwargs):
    client.force_login(getattr(world, persona))
    response = client.get(reverse(name, kwargs=kwargs(world)))
    assert response.status_code == 405 and response["Allow"] == "POST"


@pytest.mark.parametrize("name,kwargs", [
    ("org:household_detail", lambda w: {"pk": w.household_a.pk}),
    ("org:resident_edit", lambda w: {"household_pk": w.household_a.pk, "pk": w.resident_a.pk}),
    ("members:link_end", lambda w: {"pk": w.link_a.pk}),
], ids=["household_detail", "resident_edit", "link_end"])
def test_an_anonymous_visitor_goes_to_the_login_page_before_any_query(world, client, django_assert_num_queries,
                                                                       name, kwargs):
    url = reverse(name, kwargs=kwargs(world))
    with django_assert_num_queries(0):
        responses = [client.get(url), client.post(url)]
    for response in responses:
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# Pages that only read answer 405 to a POST, as the scoped object views do, before anything is looked up.
READ_ONLY = [
    ("dashboard:home", lambda w: {}),
    ("dashboard:zone_overview", lambda w: {}),
    ("dashboard:office_overview", lambda w: {"pk": w.office.pk}),
    ("dashboard:my_households", lambda w: {}),
    ("org:branch_list", lambda w: {}),
    ("members:needs_member", lambda w: {}),
    ("audit:audit_list", lambda w: {}),
    ("accounts:user_list", lambda w: {}),
    ("transfer:template", lambda w: {"kind": "households"}),
]


@pytest.mark.parametrize("name,kwargs", READ_ONLY, ids=[c[0] for c in READ_ONLY])
def test_a_post_to_a_page_that_only_reads_is_405(world, client_for, name, kwargs):
    response = client_for(world.office_admin).post(reverse(name, kwargs=kwargs(world)))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("name", ["org:household_create", "members:member_create"])
@pytest.mark.parametrize("persona", ["member_user", "advisor_b", "zone_admin"])
def test_a_page_that_creates_is_404_to_a_role_that_may_create_nowhere(world, client_for, name, persona):
    client = client_for(getattr(world, persona))
    assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse(name), {"branch": world.branch_a.pk, "grid": world.grid_a.pk}).status_code == 404
