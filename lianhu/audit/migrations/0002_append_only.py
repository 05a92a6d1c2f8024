"""Make the audit log append-only in the database itself, not only in the code that writes it.

Updates are refused on both databases. On PostgreSQL, deleting an entry younger than 180 days is
refused too (the retention sweep deletes older ones; the test runner empties tables with TRUNCATE,
which is not a row delete). SQLite's test flush deletes row by row, so there only updates are refused.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit entries are append-only';
    END IF;
    IF OLD.at > now() - interval '180 days' THEN
        RAISE EXCEPTION 'audit entries are kept at least 180 days';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
---
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""
PG_BACKWARD = "DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;---DROP FUNCTION IF EXISTS audit_append_only();"

SQLITE_FORWARD = """
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit_auditentry
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_append_only;"


def forward(apps, schema_editor):
    """Idempotent, so a later migration can lay the trigger again (SQLite drops it when it rebuilds the table)."""
    vendor = schema_editor.connection.vendor
    backward(apps, schema_editor)
    if vendor == "postgresql":
        for statement in PG_FORWARD.split("---"):
            schema_editor.execute(statement, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in PG_BACKWARD.split("---"):
            schema_editor.execute(statement, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
