from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from lianhu.audit.services import audit_log
from lianhu.common.http import client_ip, parse_pk
from lianhu.common.views import paginate

from .forms import LoginForm, PasswordChangeForm
from .models import ApiToken, User
from .selectors import office_id_of, users_resettable_by
from .services import password_change, password_reset


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
        # and is the tried account's office's when there is such an account.
        username = form.data.get("username", "")[:150]
        audit_log(actor=None, action="login_failed", ip=client_ip(self.request), detail={"username": username},
                  office_id=office_id_of(User.objects.filter(username=username).first()))
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
