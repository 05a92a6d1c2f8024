"""Writing and looking up many rows at once, on SQLite and PostgreSQL alike."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from lianhu.common import bulk
from lianhu.common.testing import valid_id_number
from lianhu.org.tests.factories import make_household, make_resident
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db


def test_one_of_finds_by_strings_and_by_ids_however_many(world):
    a = make_resident(world.household_a, name="王秀英", id_number=valid_id_number(serial=1))
    b = make_resident(world.household_a, name="李建国", id_number=valid_id_number(serial=2))
    wanted = [a.id_number_hash, b.id_number_hash] + [f"{i:064x}" for i in range(5000)]  # most match nothing

    by_hash = Resident.objects.filter(bulk.one_of(Resident, "id_number_hash", wanted))
    assert set(by_hash.values_list("name", flat=True)) == {"王秀英", "李建国"}
    by_pk = Resident.objects.filter(bulk.one_of(Resident, "pk", [b.pk, 10**9]))
    assert list(by_pk.values_list("name", flat=True)) == ["李建国"]
    by_fk = Resident.objects.filter(bulk.one_of(Resident, "household_id", [world.household_a.pk]))
    assert by_fk.count() == Resident.objects.filter(household=world.household_a).count() == 3
    assert not Resident.objects.filter(bulk.one_of(Resident, "pk", [])).exists()


def test_one_of_narrows_a_scoped_queryset_joined_to_others(world):
    other = make_household(world.grid_b)
    codes = [world.household_a.code, other.code, "no such code"]
    in_branch_a = Household.objects.filter(branch=world.branch_a).filter(bulk.one_of(Household, "code", codes))
    assert list(in_branch_a.values_list("code", flat=True)) == [world.household_a.code]
    assert Household.objects.filter(bulk.one_of(Household, "code", codes)).count() == 2


def test_insert_rows_takes_json_as_tuples_and_timestamps(world):
    now = timezone.now()
    sealed = ("", "", "", "", "", "", "", "", None, "")  # name_initials, sensitive tags, ID number, phone, birth: none
    stamps = [now - dt.timedelta(days=i % 2) for i in range(3)]
    rows = [(world.household_a.pk, f"居民{i}", "M", stamps[i], "户主", ("独居老人",) if i else (),
             *sealed) for i in range(3)]
    fields = ("household_id", "name", "gender", "updated_at", "relation", "care_tags", "name_initials",
              "sensitive_tags_cipher", "id_number_cipher", "id_number_hash", "id_number_masked", "phone_cipher",
              "phone_hash", "phone_masked", "birth_year", "birth_date_cipher")
    count = bulk.insert_rows(Resident, fields, rows)
    assert count == 3
    stored = list(Resident.objects.filter(name__startswith="居民").order_by("name")
                  .values_list("updated_at", "care_tags"))
    assert stored == [(stamps[0], []), (stamps[1], ["独居老人"]), (stamps[2], ["独居老人"])]
    bulk.update_rows(Household, ("address", "updated_at"), [(world.household_a.pk, "新地址", now)])
    world.household_a.refresh_from_db()
    assert world.household_a.address == "新地址" and world.household_a.updated_at == now


def test_constraints_stay_in_the_database(world):
    now = timezone.now()
    h = world.household_a
    row = (h.code, h.branch_id, h.grid_id, "别处", "", False, "", now, now)  # a code that is taken
    fields = ("code", "branch_id", "grid_id", "address", "villager_group", "self_built", "notes", "created_at",
              "updated_at")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Household, fields, [row])
