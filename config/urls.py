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
    path("admin/", admin.site.urls),
]

# Django's error pages, in the API's JSON error shape under /api/ (lianhu/common/views.py).
handler400 = "lianhu.common.views.bad_request"
handler403 = "lianhu.common.views.permission_denied"
handler404 = "lianhu.common.views.page_not_found"
handler500 = "lianhu.common.views.server_error"
