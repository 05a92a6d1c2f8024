from django.db import migrations, models


def seal(apps, schema_editor):
    from lianhu.common.models import seal_birth_dates

    seal_birth_dates(apps.get_model("org", "Resident"))


class Migration(migrations.Migration):
    """A resident's birth date is sealed: its year stays in clear, the date is encrypted (docs/security.md,
    "What stays in clear"); the masked ID number keeps its first 3 and last 2 characters."""

    dependencies = [("org", "0008_resident_updated_at")]
    operations = [
        migrations.AddField("resident", "birth_year", models.PositiveSmallIntegerField(
            "出生年份", null=True, blank=True, editable=False)),
        migrations.AddField("resident", "birth_date_cipher", models.TextField(blank=True, default="", editable=False)),
        migrations.RunPython(seal, migrations.RunPython.noop),
        migrations.RemoveField("resident", "birth_date"),
    ]
