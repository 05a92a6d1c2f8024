"""How the API knows who calls: an API token (Authorization: Bearer …) or the web session."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from .models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        try:
            api_token = ApiToken.objects.select_related("user").get(
                key_hash=ApiToken.hash_key(token), revoked_at__isnull=True
            )
        except ApiToken.DoesNotExist:
            return None
        if not api_token.user.is_active or api_token.user.demo_refused:
            return None
        # Written at most every few minutes: the field answers "is this token still in use?".
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > dt.timedelta(minutes=5):
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


class SessionAuth(NinjaSessionAuth):
    """Django's session, with its CSRF check on unsafe methods.

    Without a session cookie there is nothing to check, so a request with a bad token gets a 401,
    not a confusing CSRF 403.
    """

    def _get_key(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)
