"""The migration that seals the birth dates already stored (security review, finding 1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lianhu.common import crypto
from lianhu.members.models import PartyMember
from lianhu.org.models import Resident

BEFORE = [("org", "0008_resident_updated_at"), ("members", "0009_partymember_updated_at")]


def migrate(targets=None):
    """Migrate to `targets`, or to the latest migration of every app (what the other tests expect)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_birth_dates_are_sealed_and_masked_numbers_cut_to_three_and_two(world):
    old = migrate(BEFORE)
    OldResident, OldMember = old.get_model("org", "Resident"), old.get_model("members", "PartyMember")
    OldResident.objects.filter(pk=world.resident_a.pk).update(birth_date=dt.date(1948, 2, 29),
                                                              id_number_masked="360***********0071")
    OldResident.objects.filter(pk=world.resident_b.pk).update(birth_date=None, id_number_masked="")
    OldMember.objects.filter(pk=world.member_a.pk).update(birth_date=dt.date(1961, 11, 29),
                                                          id_number_masked="410***********238X")

    migrate()

    a, b = Resident.objects.get(pk=world.resident_a.pk), Resident.objects.get(pk=world.resident_b.pk)
    assert (a.birth_date, a.birth_year, a.id_number_masked) == (dt.date(1948, 2, 29), 1948, "360*************71")
    assert a.birth_date_cipher.startswith(crypto.VERSION) and "1948" not in a.birth_date_cipher
    assert (b.birth_date, b.birth_year, b.birth_date_cipher, b.id_number_masked) == (None, None, "", "")
    m = PartyMember.objects.get(pk=world.member_a.pk)
    assert (m.birth_date, m.birth_year, m.id_number_masked) == (dt.date(1961, 11, 29), 1961, "410*************8X")
    columns = {c.name for c in connection.introspection.get_table_description(connection.cursor(), "org_resident")}
    assert "birth_date" not in columns and {"birth_year", "birth_date_cipher"} <= columns
