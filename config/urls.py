from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("", include("lianhu.dashboard.urls")),
    path("accounts/", include("lianhu.accounts.urls")),
    path("org/", include("lianhu.org.urls")),
    path("members/", include("lianhu.members.urls")),
    path("audit/", include("lianhu.audit.urls")),
    path("transfer/", include("lianhu.spreadsheets.urls")),
    path("api/v1/", api.urls),
]

# Django's error pages, in the API's JSON error shape under /api/ (lianhu/common/views.py).
handler400 = "lianhu.common.views.bad_request"
handler403 = "lianhu.common.views.permission_denied"
handler404 = "lianhu.common.views.page_not_found"
handler500 = "lianhu.common.views.server_error"

def _superusers_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


# Django's admin bypasses the scoping and the audit log of the pages: it is for operators, mounted only
# with LIANHU_ADMIN=1, and even then a staff flag without superuser gets nobody in.
if settings.LIANHU_ADMIN:
    admin.site.has_permission = _superusers_only
    urlpatterns.append(path("admin/", admin.site.urls))
