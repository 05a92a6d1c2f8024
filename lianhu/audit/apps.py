from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lianhu.audit"
    label = "audit"
    verbose_name = "操作日志"

    def ready(self):
        from django.urls import reverse

        from lianhu.common.navigation import register_nav
        from lianhu.common.permissions import register_action
        from lianhu.common.sheets import register_sheet

        from .sheets import AuditSheet
        from .verbs import FILTER_LABELS, register_verb

        for verb, label in (("create", "新建"), ("update", "修改"), ("delete", "删除"),
                            ("reveal", "查看敏感信息"), ("lookup", "按身份证号查找"),
                            ("lookup_limit", "身份证号查询超限")):
            register_verb(verb, label)
        FILTER_LABELS.register("q", "搜索")
        # The audit page's filters, as an export of the log names them in its own entry.
        for name, label in (("actor", "操作人"), ("action", "操作"), ("object_type", "对象类型"),
                            ("date_from", "起始日期"), ("date_to", "截止日期"), ("ip", "来源地址"), ("office", "办事处")):
            FILTER_LABELS.register(name, label)
        # The audit administrator's alone (三员分立): the administrators who manage users and data do not read
        # the trail of their own actions (docs/security.md).
        register_action("view_audit", "查看、导出操作日志", roles={"audit_admin"}, climbs=True)
        register_sheet(AuditSheet)
        register_nav("audit", "日志", order=90,
                     url=lambda user, m: reverse("audit:audit_list") if user.can("view_audit") else None)
