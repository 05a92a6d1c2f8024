"""0003 dropped db_index from id_number_hash; on PostgreSQL Django dropped every btree index on the
column with it, the partial unique index of resident_id_number_unique included. Lay it again
(RemoveConstraint is DROP INDEX IF EXISTS, so this is safe where it survived, as on SQLite)."""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("org", "0003_slimmer_indexes")]
    operations = [
        migrations.RemoveConstraint(model_name="resident", name="resident_id_number_unique"),
        migrations.AddConstraint(
            model_name="resident",
            constraint=models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="resident_id_number_unique"
            ),
        ),
    ]
