from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "lianhu.members"
    label = "members"
