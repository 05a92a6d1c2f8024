"""Accounts' middleware: sessions end after a while without activity (sooner for roles that may reveal
personal data), a user who needs a second factor types his code before anything else, and a user whose
password must change is sent to the change page next."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils import timezone

from lianhu.common.api import is_api_request

LAST_SEEN = "lianhu_last_seen"  # seconds since the epoch, of the last request that wrote it
STAMP_EVERY = 60  # seconds: the session is written at most once a minute, not on every request
IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录"


def start_session_clocks(sender, request, user, **kwargs) -> None:
    """At login (user_logged_in, connected in AccountsConfig.ready): the session's 12 hours start now,
    however active it stays (the stamp written every minute saves the session, and Django would give a
    saved session the full SESSION_COOKIE_AGE afresh), and so does its idle time."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    request.session[LAST_SEEN] = int(time.time())


def idle_limit(user) -> int:
    """Seconds a session of `user` may stay idle: roles that may reveal personal data (and so export it
    in full) or read and export the audit log get LIANHU_SESSION_IDLE_MINUTES, the others
    LIANHU_SESSION_IDLE_MINUTES_READONLY."""
    short = user.can("reveal") or user.can("view_audit")
    minutes = settings.SESSION_IDLE_MINUTES if short else settings.SESSION_IDLE_MINUTES_READONLY
    return minutes * 60


class IdleSessionMiddleware:
    """Logs out a session idle longer than its user's role allows, with a message on the login page.

    The login starts the clocks (`start_session_clocks`); a session from before has them started by its
    first request here. Requests with an API token carry no session and are not concerned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and self.idle_too_long(request):
            logout(request)
            if request.headers.get("HX-Request"):
                return self.htmx_to_login(request)
            if not is_api_request(request):
                messages.info(request, IDLE_MESSAGE)
            # The request goes on as anonymous: a page sends to the login page, the API answers 401.
        return self.get_response(request)

    def idle_too_long(self, request) -> bool:
        """Whether the session was idle too long; if not, its activity is stamped (once a minute at most)."""
        last_seen = request.session.get(LAST_SEEN)
        if last_seen is None:
            start_session_clocks(None, request, request.user)
            return False
        now = int(time.time())
        idle = now - last_seen
        # The user's roles are looked up only when the idle time could matter.
        shortest = min(settings.SESSION_IDLE_MINUTES, settings.SESSION_IDLE_MINUTES_READONLY) * 60
        if idle > shortest and idle > idle_limit(request.user):
            return True
        if idle >= STAMP_EVERY:
            request.session[LAST_SEEN] = now
        return False

    def htmx_to_login(self, request):
        """An htmx request (a 查看 button) would swap the login page into a fragment: load it whole instead."""
        messages.info(request, IDLE_MESSAGE)
        login_url = resolve_url(settings.LOGIN_URL)
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        if page.path:
            login_url += "?" + urlencode({"next": page.path + (f"?{page.query}" if page.query else "")})
        return HttpResponse(headers={"HX-Redirect": login_url})


class PasswordChangeRequiredMiddleware:
    """Until he has changed it, a logged-in user whose `password_change_due()` gets only the change page,
    logging out, his second factor's pages and static files. A request with an API token goes on: a token
    is not a password, and an integration cannot change one. An htmx request is sent on by htmx
    (HX-Redirect), not swapped in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._exempt(request):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.password_change_due():
                if is_api_request(request):
                    return JsonResponse({"detail": PASSWORD_CHANGE_NEEDED}, status=403,
                                        json_dumps_params={"ensure_ascii": False})
                url = reverse("accounts:password_change")
                if request.headers.get("HX-Request"):
                    return HttpResponse(headers={"HX-Redirect": url})
                return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _exempt(request) -> bool:
        path = request.path  # with the script prefix, as reverse() and STATIC_URL have it
        # The second factor comes first (SecondFactorRequiredMiddleware), and a new account's recovery codes
        # are shown before he sets his password.
        return (
            path in (reverse("accounts:password_change"), reverse("accounts:logout"),
                     reverse("accounts:second_factor"), reverse("accounts:second_factor_enrol"),
                     reverse("accounts:recovery_codes"))
            or path.startswith(settings.STATIC_URL)
            or request.headers.get("Authorization", "").startswith("Bearer ")
        )


PASSWORD_CHANGE_NEEDED = "请先在网页上修改密码后再访问"
SECOND_FACTOR_NEEDED = "请先完成双因素认证：在网页上输入手机验证器的 6 位动态验证码后再访问"


class SecondFactorRequiredMiddleware:
    """Until this session has typed a code (django-otp's `user.is_verified()`), a user whose
    `second_factor_required` gets only the second-factor pages (the code, or binding an authenticator first),
    logging out and static files: a page is sent there (an htmx request by HX-Redirect), the API answers
    403 with a Chinese `detail`. A request with an API token goes on: a token is a credential of its own,
    issued from a verified session (docs/decisions.md, "The second factor")."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not self._exempt(request)
                and user.second_factor_required and not user.is_verified()):
            if is_api_request(request):
                return JsonResponse({"detail": SECOND_FACTOR_NEEDED}, status=403,
                                    json_dumps_params={"ensure_ascii": False})
            url = reverse("accounts:second_factor")
            if request.method == "GET" and not request.headers.get("HX-Request"):
                url += "?" + urlencode({"next": request.get_full_path()})
            if request.headers.get("HX-Request"):
                return HttpResponse(headers={"HX-Redirect": url})
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _exempt(request) -> bool:
        path = request.path
        return (
            path in (reverse("accounts:second_factor"), reverse("accounts:second_factor_enrol"),
                     reverse("accounts:logout"))
            or path.startswith(settings.STATIC_URL)
            or request.headers.get("Authorization", "").startswith("Bearer ")
        )
