from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "lianhu.spreadsheets"
    label = "spreadsheets"
    verbose_name = "表格导入导出"

    def ready(self):
        from lianhu.audit.verbs import register_verb

        from . import jobs  # noqa: F401  registers the import_jobs sweep with the worker

        register_verb("import", "导入")
        register_verb("export", "导出")
