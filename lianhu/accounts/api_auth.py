"""How the API knows who calls: an API token (Authorization: Bearer …) or the web session."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from .middleware import PASSWORD_CHANGE_NEEDED, SECOND_FACTOR_NEEDED
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


class SessionNotReady(Exception):
    """A session whose user needs a second factor has not typed it, or must change his password first
    (config/api.py answers 403 with the message)."""

    def __init__(self, message: str = SECOND_FACTOR_NEEDED):
        super().__init__(message)



class SessionAuth(NinjaSessionAuth):
    """Django's session, with its CSRF check on unsafe methods, once it has typed its second factor if its
    user needs one: 403 with a Chinese `detail` until then. (SecondFactorRequiredMiddleware answers the same
    before; it lets a request with a Bearer header through, and such a request comes here when its token is
    no token.)

    Without a session cookie there is nothing to check, so a request with a bad token gets a 401,
    not a confusing CSRF 403.
    """

    def _get_key(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and user.second_factor_required and not user.is_verified():
            raise SessionNotReady()
        # PasswordChangeRequiredMiddleware lets a Bearer header through, and a bad token comes here.
        if user is not None and user.password_change_due():
            raise SessionNotReady(PASSWORD_CHANGE_NEEDED)
        return user
