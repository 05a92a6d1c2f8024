from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django.views.decorators.http import require_safe

from lianhu.audit.services import audit_log
from lianhu.common.http import client_ip, parse_pk
from lianhu.common.views import paginate

from .forms import EnrolForm, LoginForm, PasswordChangeForm, SecondFactorForm
from .models import ApiToken, User
from .selectors import (confirmed_totp, office_id_of, recovery_codes_left, users_resettable_by,
                        users_second_factor_resettable_by, zone_id_of)
from .services import (SecondFactorLocked, password_change, password_reset, recovery_codes_renew,
                       second_factor_enrol, second_factor_reset, second_factor_verify, totp_enrolment)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # In the user's office's log: an entry of no office is seen by superusers only.
        audit_log(actor=self.request.user, action="login", ip=client_ip(self.request),
                  office_id=office_id_of(self.request.user))
        return response

    def form_invalid(self, form):
        # The username typed is kept on the form; the log says which account was tried, never the password,
        # and is the tried account's office's (or zone's) when there is such an account; a name no account
        # has is in no one's log but every zone's (AuditEntry.scope).
        username = form.data.get("username", "")[:150]
        tried = User.objects.filter(username=username).first()
        audit_log(actor=None, action="login_failed", ip=client_ip(self.request), detail={"username": username},
                  office_id=office_id_of(tried), zone_id=zone_id_of(tried))
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_log(actor=request.user, action="logout", ip=client_ip(request), office_id=office_id_of(request.user))
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password; the page a user is sent to while his must be changed. A demo account's
    password is the one the README publishes, so it stays."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("dashboard:home")

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.user.is_authenticated and request.user.is_demo:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        password_change(user=form.user, password=form.cleaned_data["new_password1"], ip=client_ip(self.request))
        update_session_auth_hash(self.request, form.user)  # this session stays; his others end
        messages.success(self.request, "密码已修改")
        return HttpResponseRedirect(self.get_success_url())


@login_required
@require_safe
def user_list(request):
    """The members and grid workers whose password the user may reset."""
    if not request.user.can("reset_passwords"):
        raise Http404
    users = users_resettable_by(request.user).prefetch_related("memberships").order_by("username")
    q = request.GET.get("q", "").strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return render(request, "accounts/user_list.html", {"page": paginate(request, users), "q": q})


@never_cache  # the temporary password must not stay in a browser's cache
@login_required
def password_reset_view(request, pk: int):
    """Reset the password of a member or grid worker in the user's scope (404 otherwise): a temporary one,
    shown once, to be changed at his next login."""
    target = get_object_or_404(users_resettable_by(request.user), pk=pk)
    temporary = None
    if request.method == "POST":
        temporary = password_reset(actor=request.user, user=target, ip=client_ip(request))
    return render(request, "accounts/password_reset.html", {"target": target, "temporary": temporary})


@login_required
def tokens(request):
    """A user's own API tokens: issue one (shown once, for the roles that run integrations) or revoke one."""
    new_key = None
    may_issue = request.user.can("issue_tokens")
    if request.method == "POST":
        with transaction.atomic():
            if "revoke" in request.POST:
                # Someone else's token (or none) is out of his scope: 404, like any object of another's.
                pk = parse_pk(request.POST["revoke"])
                token = request.user.api_tokens.filter(pk=pk).first() if pk else None
                if token is None:
                    raise Http404
                if token.revoked_at is None:  # revoked already (a second click): nothing more to do
                    token.revoked_at = timezone.now()
                    token.save(update_fields=["revoked_at"])
                    audit_log(actor=request.user, action="token", ip=client_ip(request),
                              detail={"revoked": token.prefix}, office_id=office_id_of(request.user))
                    messages.success(request, "令牌已吊销")
                return redirect("accounts:tokens")
            if not may_issue:
                raise Http404
            name = request.POST.get("name", "").strip()
            if not name:
                messages.error(request, "请填写令牌用途")
            else:
                token, new_key = ApiToken.issue(user=request.user, name=name[:100])
                audit_log(actor=request.user, action="token", ip=client_ip(request), detail={"issued": token.prefix},
                          office_id=office_id_of(request.user))
    return render(request, "accounts/tokens.html", {"tokens": request.user.api_tokens.order_by("-created_at"),
                                                    "new_key": new_key, "may_issue": may_issue})


# ---- The second factor (docs/decisions.md, "The second factor") ----------------------------------------

NEW_RECOVERY_CODES = "lianhu_new_recovery_codes"  # in the session from their making until they are shown, once
WRONG_CODE = "验证码不正确：请输入手机验证器上当前显示的 6 位数字（或一个未用过的恢复码）。连续输错 {limit} 次将暂停验证 30 分钟"


def _next(request) -> str:
    """Where to go once verified: the page first asked for, if it is on this site; else the home page."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _wrong_code() -> str:
    return WRONG_CODE.format(limit=settings.LIANHU_OTP_FAILURE_LIMIT)


@never_cache
@login_required
def second_factor(request):
    """After the password: the 6-digit code of his authenticator app, or one of his recovery codes. One who
    has bound no authenticator yet binds one first."""
    user = request.user
    if not user.second_factor_required or user.is_verified():
        return redirect(_next(request))
    if confirmed_totp(user) is None:
        return redirect(_with_next(reverse("accounts:second_factor_enrol"), request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _checked_code(request, form)
        if device is not None:
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"已使用一个恢复码，还剩 {left} 个。"
                                          + ("请尽快重新生成恢复码。" if left <= 3 else ""))
            return redirect(_next(request))
    return render(request, "accounts/second_factor.html", {"form": form, "next": request.GET.get("next", "")})


def _checked_code(request, form):
    """The device whose code (or recovery code) the valid `form` holds, or None with the error on the form:
    a wrong code, or his codes stopped for a while (SecondFactorLocked)."""
    try:
        device = second_factor_verify(user=request.user, code=form.cleaned_data["code"], ip=client_ip(request))
    except SecondFactorLocked as locked:
        form.add_error(None, str(locked))
        return None
    if device is None:
        form.add_error("code", _wrong_code())
    return device


@never_cache  # the secret must not stay in a browser's cache
@login_required
def second_factor_enrol_view(request):
    """扫码绑定: the QR code of a new secret (and the secret as text, to type in), then the 6 digits his app
    shows to confirm it; then his recovery codes, once."""
    user = request.user
    if not user.second_factor_required:
        raise Http404
    if confirmed_totp(user) is not None:
        return redirect(_with_next(reverse("accounts:second_factor"), request))
    device = totp_enrolment(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor_enrol(user=user, device=device, code=form.cleaned_data["code"], ip=client_ip(request))
        except SecondFactorLocked as locked:
            form.add_error(None, str(locked))
        else:
            if codes is not None:
                django_otp.login(request, device)
                request.session[NEW_RECOVERY_CODES] = codes
                messages.success(request, "手机验证器已绑定")
                return redirect(_with_next(reverse("accounts:recovery_codes"), request))
            form.add_error("code", _wrong_code())
    secret = b32encode(device.bin_key).decode()
    return render(request, "accounts/second_factor_enrol.html", {
        "form": form,
        "next": request.GET.get("next", ""),
        # An <img> of a data: URI: the Content-Security-Policy allows data: images, and the page runs no script.
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4, light="white"),
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "username": user.username,
    })


@never_cache  # the codes must not stay in a browser's cache
@login_required
def recovery_codes(request):
    """His recovery codes: new ones are shown here once (after binding, or made anew after one of his codes)."""
    user = request.user
    if not user.second_factor_required:
        raise Http404
    codes = request.session.pop(NEW_RECOVERY_CODES, None)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _checked_code(request, form) is not None:
        request.session[NEW_RECOVERY_CODES] = recovery_codes_renew(user=request.user, ip=client_ip(request))
        return redirect("accounts:recovery_codes")
    return render(request, "accounts/recovery_codes.html", {
        "codes": codes, "form": form, "left": recovery_codes_left(user), "device": confirmed_totp(user),
        "next": _next(request),
    })


@require_safe
@login_required
def second_factor_users(request):
    """The accounts whose second factor the user may reset: his office's staff (an office administrator),
    the offices' administrators (the zone)."""
    if not request.user.can("reset_second_factor"):
        raise Http404
    bound = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    users = (users_second_factor_resettable_by(request.user).annotate(bound=Exists(bound))
             .prefetch_related("memberships").order_by("username"))
    return render(request, "accounts/second_factor_users.html", {"page": paginate(request, users)})


@login_required
def second_factor_reset_view(request, pk: int):
    """Reset the second factor of one of those (404 for anyone else): he binds a new authenticator at his
    next login, and his sessions must type a code again."""
    target = get_object_or_404(users_second_factor_resettable_by(request.user), pk=pk)
    if request.method == "POST":
        second_factor_reset(actor=request.user, user=target, ip=client_ip(request))
        messages.success(request, f"已重置 {target} 的双因素认证：他下次登录时须重新扫码绑定手机验证器")
        return redirect("accounts:second_factor_users")
    return render(request, "accounts/second_factor_reset.html", {"target": target, "device": confirmed_totp(target)})
