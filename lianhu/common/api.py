"""API base: token or session authentication, JSON without \\u escapes, scoped lookups."""

from __future__ import annotations

import json

from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from lianhu.accounts.models import ApiToken


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        try:
            api_token = ApiToken.objects.select_related("user").get(
                key_hash=ApiToken.hash_key(token), revoked_at__isnull=True
            )
        except ApiToken.DoesNotExist:
            return None
        if not api_token.user.is_active:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.user
        return api_token.user


api = NinjaAPI(
    title="联户 API",
    version="1",
    description="办事处、支部、网格、户、居民、党员与联系关系。令牌认证：Authorization: Bearer <令牌>。",
    auth=[TokenAuth(), django_auth],
    renderer=ChineseJSONRenderer(),
    urls_namespace="api",
)


def scoped_get(request, model, pk, action: str = "view"):
    """The API's only way to fetch one object: through the scoped queryset, so out of scope is 404."""
    obj = model.objects.visible_to(request.user, action).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj
