from django.db import migrations


def rehash(apps, schema_editor):
    from lianhu.common.models import rehash_legacy_id_numbers

    rehash_legacy_id_numbers(apps.get_model("org", "Resident"))


class Migration(migrations.Migration):
    """Legacy 15-digit ID numbers are hashed as the 18-digit numbers that replaced them (validators.id_key)."""

    dependencies = [("org", "0006_household_branch_index")]
    operations = [migrations.RunPython(rehash, migrations.RunPython.noop)]
