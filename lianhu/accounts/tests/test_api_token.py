import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from lianhu.accounts.models import ApiToken
from lianhu.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households"


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_the_command_prints_the_token_once_and_stores_only_its_hash(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "secretary_a", "--name", "区大数据平台", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=world.secretary_a)
    assert (token.name, token.key_hash, token.prefix) == ("区大数据平台", ApiToken.hash_key(key), key[:8])
    assert key not in err.getvalue() and "只显示这一次" in err.getvalue()
    assert AuditEntry.objects.filter(action="token", object_id=str(world.secretary_a.pk)).exists()
    assert Client().get(HOUSEHOLDS, **bearer(key)).status_code == 200


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="用户 nobody 不存在"):
        call_command("create_api_token", "nobody", "--name", "测试")


def test_a_bearer_token_authenticates_as_its_user_and_sees_only_his_scope(world):
    token, key = ApiToken.issue(user=world.secretary_b, name="测试")
    client = Client()
    response = client.get(HOUSEHOLDS, **bearer(key))
    assert {row["id"] for row in response.json()["items"]} == {world.household_b.pk}
    assert client.get(f"{HOUSEHOLDS}/{world.household_a.pk}", **bearer(key)).status_code == 404
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_writes_without_a_csrf_token_and_is_recorded_as_its_user(world):
    _, key = ApiToken.issue(user=world.secretary_a, name="测试")
    client = Client(enforce_csrf_checks=True)
    response = client.patch(f"{HOUSEHOLDS}/{world.household_a.pk}", data=json.dumps({"notes": "门前有台阶"}),
                            content_type="application/json", **bearer(key))
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.get(action="update").actor == world.secretary_a


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_credentials_an_unknown_token_or_a_revoked_token_get_401(world, method):
    token, key = ApiToken.issue(user=world.secretary_a, name="测试")
    token.revoked_at = timezone.now()
    token.save()
    client = Client(enforce_csrf_checks=True)
    for headers in ({}, bearer("lh_unknown"), bearer(key)):
        response = getattr(client, method)(HOUSEHOLDS, **headers)
        assert response.status_code == 401, (headers, response.content)
        assert response.json() == {"detail": "未登录，或接口令牌无效、已吊销"}
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_token_of_a_deactivated_user_gets_401(world):
    _, key = ApiToken.issue(user=world.secretary_a, name="测试")
    world.secretary_a.is_active = False
    world.secretary_a.save()
    assert Client().get(HOUSEHOLDS, **bearer(key)).status_code == 401


def test_a_logged_in_session_reads_and_writes_only_with_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.secretary_a)
    assert client.get(HOUSEHOLDS).status_code == 200
    url = f"{HOUSEHOLDS}/{world.household_a.pk}"
    body = json.dumps({"notes": "门前有台阶"})
    assert client.patch(url, data=body, content_type="application/json").status_code == 403
    csrf = get_random_string(32)
    client.cookies["csrftoken"] = csrf
    response = client.patch(url, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content


# ---- who may issue tokens on the tokens page -----------------------------------------------------
TOKENS = "/accounts/tokens/"


@pytest.mark.parametrize("persona", ["zone_admin", "office_admin", "office_staff"])
def test_roles_that_run_integrations_issue_a_token_shown_once_and_audited(world, client_for, persona):
    client = client_for(getattr(world, persona))
    assert 'name="name"' in client.get(TOKENS).content.decode()
    response = client.post(TOKENS, {"name": "区级平台对接"})
    token = ApiToken.objects.get(user=getattr(world, persona))
    assert token.prefix in response.content.decode()
    assert AuditEntry.objects.filter(action="token", actor=getattr(world, persona)).exists()


@pytest.mark.parametrize("persona", ["secretary_a", "member_user", "grid_worker_a", "advisor_b"])
def test_other_roles_see_why_and_cannot_issue_a_token(world, client_for, persona):
    client = client_for(getattr(world, persona))
    page = client.get(TOKENS).content.decode()
    assert 'name="name"' not in page and "不能自行签发" in page
    assert client.post(TOKENS, {"name": "自己用"}).status_code == 404
    assert not ApiToken.objects.exists()
    assert not AuditEntry.objects.filter(action="token").exists()


def test_a_user_without_the_right_still_sees_and_revokes_a_token_an_operator_issued(world, client_for):
    token, _key = ApiToken.issue(user=world.secretary_a, name="运维签发")
    client = client_for(world.secretary_a)
    assert "运维签发" in client.get(TOKENS).content.decode()
    assert client.post(TOKENS, {"revoke": token.pk}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_someone_elses_token_is_404_and_leaves_it_alone(world, client_for):
    token, _key = ApiToken.issue(user=world.office_staff, name="对接")
    response = client_for(world.office_admin).post(TOKENS, {"revoke": token.pk})
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and not AuditEntry.objects.filter(action="token").exists()
