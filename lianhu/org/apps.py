from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "lianhu.org"
    label = "org"
