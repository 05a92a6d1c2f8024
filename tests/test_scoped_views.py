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
