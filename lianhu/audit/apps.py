from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lianhu.audit"
    label = "audit"
