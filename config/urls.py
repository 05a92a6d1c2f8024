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
