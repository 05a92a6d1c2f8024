from django.apps import AppConfig
from django.urls import reverse


class DashboardConfig(AppConfig):
    name = "lianhu.dashboard"
    label = "dashboard"
    verbose_name = "看板"

    def ready(self):
        from lianhu.common.navigation import register_nav

        register_nav("office_overview", "总览", order=10, url=lambda user, m: reverse(
            "dashboard:office_overview", args=[m.office_id])
            if m is not None and m.office_id and user.can("view") else None)
        register_nav("zone_overview", "全区", order=20, url=lambda user, m: reverse("dashboard:zone_overview")
                     if m is not None and m.role == "zone_admin" else None)
        register_nav("my_households", "我的联系户", order=30, url=lambda user, m: reverse("dashboard:my_households")
                     if m is not None and m.role == "member" else None)
