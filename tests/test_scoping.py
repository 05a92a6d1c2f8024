import pytest

from lianhu.members.models import LiaisonLink, PartyMember
from lianhu.org.models import Branch, Household, Office, Resident

pytestmark = pytest.mark.django_db


def visible(model, user, action="view"):
    return set(model.objects.visible_to(user, action).values_list("pk", flat=True))


def test_office_admin_sees_every_household_of_the_office_and_none_of_another(world):
    w = world
    assert visible(Household, w.office_admin) == {w.household_a.pk, w.household_a2.pk, w.household_b.pk}


def test_branch_secretary_sees_only_his_branch(world):
    w = world
    assert visible(Household, w.secretary_a) == {w.household_a.pk, w.household_a2.pk}
    assert visible(Household, w.secretary_b) == {w.household_b.pk}
    assert visible(Branch, w.secretary_a) == {w.branch_a.pk}
    assert visible(Office, w.secretary_a) == {w.office.pk}


def test_member_sees_only_the_households_he_links(world):
    w = world
    assert visible(Household, w.member_user) == {w.household_a.pk}
    assert visible(Resident, w.member_user) == {w.resident_a.pk}
    assert visible(PartyMember, w.member_user) == {w.member_a.pk}
    assert visible(LiaisonLink, w.member_user) == {w.link_a.pk}


def test_grid_worker_sees_his_grid_and_advisor_his_assigned_branches(world):
    w = world
    assert visible(Household, w.grid_worker_a) == {w.household_a.pk}
    assert visible(Household, w.advisor_b) == {w.household_b.pk}
    assert visible(Household, w.advisor_b, "edit_roster") == set()


def test_zone_admin_sees_the_zone_but_may_not_reveal(world):
    w = world
    assert len(visible(Household, w.zone_admin)) == 4
    assert visible(Resident, w.zone_admin, "reveal") == set()


def test_anonymous_and_roleless_users_see_nothing(world, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert visible(Household, AnonymousUser()) == set()
    assert visible(Household, nobody) == set()


def test_the_database_itself_refuses_a_second_resident_or_member_with_the_same_id_number(world):
    from django.db import IntegrityError, transaction

    from lianhu.members.tests.factories import make_member

    twin = Resident(household=world.household_b, name="冒名", gender="F", id_number_hash=world.resident_a.id_number_hash)
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    first = make_member(world.branch_a, "甲")
    first.id_number_hash = "a" * 64
    first.save()
    second = make_member(world.branch_b, "乙")
    second.id_number_hash = "a" * 64
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_keyed_hashes_are_indexed_for_equality_only():
    """Hash indexes of the non-blank hashes and a byte-wise unique index on PostgreSQL (cheaper per
    imported row), btrees elsewhere; no index on phone hashes, which nothing looks up."""
    from django.db import connection

    with connection.cursor() as cursor:
        found = {table: connection.introspection.get_constraints(cursor, table)
                 for table in ("org_resident", "members_partymember")}
    indexes = {name: found[table][name] for table, name in (
        ("org_resident", "resident_id_hash"), ("org_resident", "resident_id_number_unique"),
        ("members_partymember", "member_id_hash"), ("members_partymember", "member_id_number_unique"))}
    assert all(i["columns"] == ["id_number_hash"] for i in indexes.values())
    assert indexes["resident_id_number_unique"]["unique"] and not indexes["resident_id_hash"]["unique"]
    assert not any(c["columns"] == ["phone_hash"] for table in found.values() for c in table.values())
    if connection.vendor == "postgresql":
        assert {name: i["type"] for name, i in indexes.items()} == {  # Django says idx for a btree
            "resident_id_hash": "hash", "resident_id_number_unique": "idx", "member_id_hash": "hash",
            "member_id_number_unique": "idx"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(indexes)])
            definitions = dict(cursor.fetchall())
        assert "varchar_pattern_ops" in definitions["resident_id_number_unique"]
        # Blank hashes stay out of the hash index: they would all share one bucket.
        assert "WHERE (NOT ((id_number_hash)::text = ''::text))" in definitions["resident_id_hash"]


@pytest.mark.django_db
def test_visible_to_with_an_unknown_action_raises(world):
    from lianhu.common.registry import UnknownEntry

    with pytest.raises(UnknownEntry):
        list(Household.objects.visible_to(world.office_admin, "edit_rooster"))
