from django.apps import AppConfig


class CommonConfig(AppConfig):
    verbose_name = "公共"
    name = "lianhu.common"
    label = "common"
