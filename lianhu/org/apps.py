from django.apps import AppConfig
from django.urls import reverse

STAFF = ("office_admin", "office_staff")


def _not_member_page(name: str):
    """Lists for everyone who sees the hierarchy but a member, who works from 我的联系户."""
    return lambda user, m: reverse(name) if m is not None and m.role != "member" and user.can("view") else None


class OrgConfig(AppConfig):
    name = "lianhu.org"
    label = "org"
    verbose_name = "组织与户籍"

    def ready(self):
        from lianhu.audit.verbs import FILTER_LABELS
        from lianhu.common.navigation import register_nav
        from lianhu.common.permissions import register_action
        from lianhu.common.sheets import register_sheet

        from . import figures  # noqa: F401  registers the household figures
        from .hooks import BranchCard, branch_cards
        from .sheets import HouseholdSheet

        register_action("edit_org", "新建、编辑支部", roles={"zone_admin", *STAFF})
        register_action("edit_grids", "新建、编辑网格", roles={*STAFF, "branch_secretary"})
        register_action("edit_roster", "登记户与居民", roles={*STAFF, "branch_secretary", "grid_worker"})
        register_action("reveal", "查看身份证号、电话等敏感信息", roles={*STAFF, "branch_secretary", "grid_worker"})
        register_sheet(HouseholdSheet)
        branch_cards.add(BranchCard("户", "households", order=40))
        FILTER_LABELS.register("branch", "支部")
        FILTER_LABELS.register("grid", "网格")
        register_nav("branches", "支部", order=40, url=_not_member_page("org:branch_list"))
        register_nav("households", "户", order=50, url=_not_member_page("org:household_list"))
