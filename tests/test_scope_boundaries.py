"""Scope boundaries finer than the access matrix's (tests/test_access_matrix.py, every page and operation
× every persona, on the objects of other branches and offices): within one branch, and what a 404 says."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_member_sees_his_own_household_but_not_an_unlinked_one_of_his_branch(world, client):
    client.force_login(world.member_user)
    assert client.get(reverse("org:household_detail", args=[world.household_a.pk])).status_code == 200
    assert client.get(reverse("org:household_detail", args=[world.household_a2.pk])).status_code == 404
    assert client.get(reverse("org:household_detail", args=[world.household_b.pk])).status_code == 404
    assert client.get(reverse("members:member_detail", args=[world.member_b.pk])).status_code == 404


def test_not_found_page_is_in_chinese(world, client, settings):
    settings.DEBUG = False
    client.force_login(world.secretary_b)
    response = client.get(reverse("org:household_detail", args=[world.household_a.pk]))
    assert response.status_code == 404 and "不在您的管辖范围内" in response.content.decode()


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
    assert client.post(reverse("accounts:tokens"), {"revoke": "abc"}).status_code == 404
