"""Keyed-hash indexes for equality look-ups only: a hash index and a byte-wise unique index on PostgreSQL
(a 100,000-row import inserts into each of them at random places; see LookupIndex, unique_id_number).
Residents are not searched by phone: no index on phone_hash."""

import lianhu.common.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0004_restore_id_number_unique'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='resident',
            name='resident_id_number_unique',
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_id_hash',
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_phone_hash',
        ),
        migrations.AddIndex(
            model_name='resident',
            index=lianhu.common.models.LookupIndex(fields=['id_number_hash'], name='resident_id_hash'),
        ),
        migrations.AddConstraint(
            model_name='resident',
            constraint=models.UniqueConstraint(condition=models.Q(('id_number_hash', ''), _negated=True), fields=('id_number_hash',), name='resident_id_number_unique', opclasses=['varchar_pattern_ops']),
        ),
    ]
