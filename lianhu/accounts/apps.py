from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lianhu.accounts"
    label = "accounts"
    verbose_name = "账号"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.urls import reverse

        from lianhu.audit.verbs import register_verb
        from lianhu.common.navigation import register_nav
        from lianhu.common.permissions import register_action

        from . import checks  # noqa: F401  every registered action names known roles
        from .middleware import start_session_clocks
        from .models import Role

        user_logged_in.connect(start_session_clocks, dispatch_uid="lianhu.accounts.start_session_clocks")

        # Every role but the audit administrator's: he reads the log of his office or zone, not its business
        # data (三员分立, docs/security.md), so every business page and list is a 404 or empty for him.
        register_action("view", "查看", roles=set(Role.values) - {Role.AUDIT_ADMIN}, climbs=True)
        # Integrations are run by the zone and the offices; anyone else's token comes from an operator
        # (`manage.py create_api_token`).
        register_action("issue_tokens", "签发接口令牌", roles={Role.ZONE_ADMIN, Role.OFFICE_ADMIN, Role.OFFICE_STAFF})
        # Of members and grid workers (accounts.selectors.RESETTABLE_ROLES), at the role's own level only.
        register_action("reset_passwords", "重置党员、网格员密码",
                        roles={Role.OFFICE_ADMIN, Role.OFFICE_STAFF, Role.BRANCH_SECRETARY})
        # Of office staff (an office administrator) and of office administrators (the zone), at the role's own
        # level only (accounts.selectors.SECOND_FACTOR_RESETS).
        register_action("reset_second_factor", "重置双因素认证", roles={Role.ZONE_ADMIN, Role.OFFICE_ADMIN})
        register_verb("login", "登录")
        register_verb("login_failed", "登录失败")
        register_verb("logout", "退出登录")
        register_verb("password_change", "修改密码")
        register_verb("password_reset", "重置密码")
        register_verb("token", "接口令牌")
        register_verb("otp_verified", "双因素认证通过")
        register_verb("otp_failed", "动态验证码错误")
        register_verb("otp_locked", "双因素认证暂停")
        register_verb("otp_enrolled", "绑定验证器")
        register_verb("otp_recovery_used", "使用恢复码")
        register_verb("otp_codes_renewed", "重新生成恢复码")
        register_verb("otp_reset", "重置双因素认证")
        register_nav("accounts", "账号", order=80,
                     url=lambda user, m: reverse("accounts:user_list") if user.can("reset_passwords") else None)
        register_nav("second_factor_users", "双因素认证", order=81,
                     url=lambda user, m: reverse("accounts:second_factor_users") if user.can("reset_second_factor")
                     else None)
