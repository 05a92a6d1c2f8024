"""The demo office's rosters go out to Excel and come back in without a single change."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from lianhu.common import xlsx
from lianhu.members.models import LiaisonLink, PartyMember
from lianhu.org.models import Household, Office, Resident

OFFICE = "明港办事处"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the demo once for the module, in a transaction rolled back when the module is done."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        call_command("load_demo", seed=1, verbosity=0, stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def rows() -> tuple:
    return (Household.objects.count(), Resident.objects.count(), PartyMember.objects.count(),
            LiaisonLink.objects.count(), LiaisonLink.objects.active().count())


@pytest.mark.parametrize("kind,entities", [("households", ("户", "居民")), ("members", ("党员",)), ("links", ("联系关系",))])
def test_the_demo_office_round_trips_through_export_and_import_unchanged(kind, entities):
    office = Office.objects.get(name=OFFICE)
    sheet = xlsx.sheet_class(kind)(office=office)
    buffer = io.BytesIO()
    exported = sheet.write_export(buffer, sheet.export_queryset(), masked=False)
    before = rows()

    outcome = xlsx.import_file(xlsx.sheet_class(kind)(office=office), buffer.getvalue(), f"{kind}.xlsx", apply=True)

    assert outcome.ok, [f"{p.where} {p.message}" for p in outcome.errors[:5]]
    assert outcome.rows == exported and outcome.changes == 0
    assert set(outcome.counts) == set(entities)
    assert rows() == before
