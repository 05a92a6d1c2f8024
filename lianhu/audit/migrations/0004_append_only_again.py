"""0003 changed the foreign keys; SQLite applies that by rebuilding the table, which drops its triggers."""

import importlib

from django.db import migrations

append_only = importlib.import_module("lianhu.audit.migrations.0002_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_alter_auditentry_actor_alter_auditentry_office")]
    operations = [migrations.RunPython(append_only.forward, append_only.backward)]
