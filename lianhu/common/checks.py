"""Start-up checks: refuse to run without the key that personal data is sealed with."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def data_key_is_set(app_configs, **kwargs):
    if settings.LIANHU_DATA_KEY:
        return []
    return [
        Error(
            "LIANHU_DATA_KEY is not set: personal data can be neither sealed nor read.",
            hint="Run `python manage.py init_keys` (writes data/local.env) or set it in the environment.",
            id="lianhu.E001",
        )
    ]
