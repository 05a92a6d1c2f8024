from django.db import migrations


def rehash(apps, schema_editor):
    from lianhu.common.models import rehash_legacy_id_numbers

    rehash_legacy_id_numbers(apps.get_model("members", "PartyMember"))


class Migration(migrations.Migration):
    """Legacy 15-digit ID numbers are hashed as the 18-digit numbers that replaced them (validators.id_key)."""

    dependencies = [("members", "0007_lookup_indexes")]
    operations = [migrations.RunPython(rehash, migrations.RunPython.noop)]
