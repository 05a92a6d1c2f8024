from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lianhu.accounts"
    label = "accounts"
    verbose_name = "账号"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from lianhu.audit.verbs import register_verb
        from lianhu.common.permissions import register_action

        from . import checks  # noqa: F401  every registered action names known roles
        from .middleware import start_session_clocks
        from .models import Role

        user_logged_in.connect(start_session_clocks, dispatch_uid="lianhu.accounts.start_session_clocks")

        register_action("view", "查看", roles=Role.values, climbs=True)
        register_verb("login", "登录")
        register_verb("login_failed", "登录失败")
        register_verb("token", "接口令牌")
