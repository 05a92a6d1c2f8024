"""See org/0004: PostgreSQL lost member_id_number_unique when 0005 dropped db_index; lay it again."""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("members", "0005_slimmer_indexes")]
    operations = [
        migrations.RemoveConstraint(model_name="partymember", name="member_id_number_unique"),
        migrations.AddConstraint(
            model_name="partymember",
            constraint=models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="member_id_number_unique"
            ),
        ),
    ]
