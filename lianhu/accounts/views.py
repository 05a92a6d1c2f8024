from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from lianhu.audit.services import audit_log
from lianhu.common.http import client_ip, parse_pk

from .models import ApiToken


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_log(actor=self.request.user, action="login", ip=client_ip(self.request))
        return response

    def form_invalid(self, form):
        # The username typed is kept on the form; the log says which account was tried, never the password.
        audit_log(actor=None, action="login_failed", ip=client_ip(self.request),
                  detail={"username": form.data.get("username", "")[:150]})
        return super().form_invalid(form)


@login_required
def tokens(request):
    """A user's own API tokens: issue one (shown once) or revoke one."""
    new_key = None
    if request.method == "POST":
        with transaction.atomic():
            if "revoke" in request.POST:
                pk = parse_pk(request.POST["revoke"])
                token = request.user.api_tokens.filter(pk=pk, revoked_at__isnull=True).first() if pk else None
                if token:
                    token.revoked_at = timezone.now()
                    token.save(update_fields=["revoked_at"])
                    audit_log(actor=request.user, action="token", ip=client_ip(request),
                              detail={"revoked": token.prefix})
                    messages.success(request, "令牌已吊销")
                return redirect("accounts:tokens")
            name = request.POST.get("name", "").strip()
            if not name:
                messages.error(request, "请填写令牌用途")
            else:
                token, new_key = ApiToken.issue(user=request.user, name=name[:100])
                audit_log(actor=request.user, action="token", ip=client_ip(request), detail={"issued": token.prefix})
    return render(request, "accounts/tokens.html", {"tokens": request.user.api_tokens.order_by("-created_at"),
                                                    "new_key": new_key})
