"""Households by branch are found through household_branch_visited (branch, last_visited_at): the
foreign key's own index only cost every imported household an insert."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0005_lookup_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='household',
            name='branch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='households', to='org.branch', verbose_name='支部'),
        ),
    ]
