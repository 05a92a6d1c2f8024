"""Django's admin is not reachable unless LIANHU_ADMIN=1 mounts it, and then only for superusers."""

import importlib

import pytest
from django.urls import clear_url_caches

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls_with_admin(settings):
    """config.urls as built with LIANHU_ADMIN=1; rebuilt as it was afterwards."""
    import config.urls

    settings.LIANHU_ADMIN = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.LIANHU_ADMIN = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_the_admin_is_not_mounted_by_default(world, client):
    from django.conf import settings

    assert settings.LIANHU_ADMIN is False
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404
    client.force_login(world.office_admin)
    assert client.get("/admin/").status_code == 404


def test_with_lianhu_admin_it_is_mounted_for_superusers_only(world, client, urls_with_admin):
    client.force_login(world.office_admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    world.office_admin.is_staff = True  # staff is not enough
    world.office_admin.save()
    assert client.get("/admin/").status_code == 302
    world.office_admin.is_superuser = True
    world.office_admin.save()
    assert client.get("/admin/").status_code == 200
