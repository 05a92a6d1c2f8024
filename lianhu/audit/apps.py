from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lianhu.audit"
    label = "audit"
    verbose_name = "操作日志"

    def ready(self):
        from django.urls import reverse

        from lianhu.common.navigation import register_nav
        from lianhu.common.permissions import register_action

        from .verbs import FILTER_LABELS, register_verb

        for verb, label in (("create", "新建"), ("update", "修改"), ("delete", "删除"),
                            ("reveal", "查看敏感信息"), ("lookup", "按身份证号查找"),
                            ("lookup_limit", "身份证号查询超限")):
            register_verb(verb, label)
        FILTER_LABELS.register("q", "搜索")
        register_action("view_audit", "查看操作日志", roles={"zone_admin", "office_admin"}, climbs=True)
        register_nav("audit", "日志", order=90,
                     url=lambda user, m: reverse("audit:audit_list") if user.can("view_audit") else None)
