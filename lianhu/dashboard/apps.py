from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "lianhu.dashboard"
    label = "dashboard"
