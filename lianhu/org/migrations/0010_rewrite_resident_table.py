from django.db import migrations

from lianhu.common.models import rewrite_table


class Migration(migrations.Migration):
    """The dropped clear birth dates are wiped from the database file (VACUUM; see rewrite_table)."""

    atomic = False
    dependencies = [("org", "0009_seal_birth_date")]
    operations = [rewrite_table("org.Resident")]
