from django.apps import AppConfig


class CommonConfig(AppConfig):
    verbose_name = "公共"
    name = "lianhu.common"
    label = "common"

    def ready(self):
        from . import checks  # noqa: F401  refuses to start without LIANHU_DATA_KEY
