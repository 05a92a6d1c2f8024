"""Keyed-hash indexes for equality look-ups only: a hash index and a byte-wise unique index on PostgreSQL
(a 100,000-row import inserts into each of them at random places; see LookupIndex, unique_id_number).
Members are not searched by phone: no index on phone_hash."""

import lianhu.common.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0006_restore_id_number_unique'),
        ('org', '0006_household_branch_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='partymember',
            name='member_id_number_unique',
        ),
        migrations.RemoveIndex(
            model_name='partymember',
            name='member_id_hash',
        ),
        migrations.RemoveIndex(
            model_name='partymember',
            name='member_phone_hash',
        ),
        migrations.AddIndex(
            model_name='partymember',
            index=lianhu.common.models.LookupIndex(fields=['id_number_hash'], name='member_id_hash'),
        ),
        migrations.AddConstraint(
            model_name='partymember',
            constraint=models.UniqueConstraint(condition=models.Q(('id_number_hash', ''), _negated=True), fields=('id_number_hash',), name='member_id_number_unique', opclasses=['varchar_pattern_ops']),
        ),
    ]
