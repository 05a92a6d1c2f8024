from django.apps import AppConfig
from django.urls import reverse


class MembersConfig(AppConfig):
    name = "lianhu.members"
    label = "members"
    verbose_name = "党员与联系户"

    def ready(self):
        from lianhu.audit.verbs import FILTER_LABELS, register_verb
        from lianhu.common.navigation import register_nav
        from lianhu.common.permissions import register_action
        from lianhu.common.sheets import register_sheet

        from . import extensions, figures  # noqa: F401  figures registers the liaison figures
        from .sheets import LinkSheet, MemberSheet

        register_action("manage_members", "管理党员与联系户", roles={"office_admin", "office_staff", "branch_secretary"})
        register_verb("link", "建立联系")
        register_verb("unlink", "解除联系")
        register_verb("exempt", "认定不能联户")
        register_sheet(MemberSheet)
        register_sheet(LinkSheet)
        FILTER_LABELS.register("linked", "联系情况")
        FILTER_LABELS.register("status", "状态")
        register_nav("members", "党员", order=60, url=lambda user, m: reverse("members:member_list")
                     if m is not None and m.role != "member" and user.can("view") else None)
        register_nav("needs_member", "待安排", order=70, url=lambda user, m: reverse("members:needs_member")
                     if user.can("manage_members") else None)
        extensions.register()
