"""Each seeder draws from its own stream: the same seed gives the same data, whatever else is seeded."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from lianhu.common import crypto, seeders
from lianhu.members.models import LiaisonLink, PartyMember
from lianhu.org.models import Household, Resident

SEED = 1

pytestmark = pytest.mark.django_db


def data_digest() -> str:
    """A digest of what org and members stored (households with their residents, members, links), keys left out."""
    digest = hashlib.sha256()
    for rows in (
        Household.objects.order_by("code").values_list("code", "grid__code", "address", "lng", "lat", "floors",
                                                        "last_visited_at"),
        Resident.objects.order_by("household__code", "pk").values_list("household__code", "name", "birth_date_cipher",
                                                                       "id_number_hash", "phone_hash", "care_tags"),
        PartyMember.objects.order_by("pk").values_list("branch__code", "grid__code", "name", "birth_date_cipher", "status",
                                                       "capacity", "exempt_reason", "post", "id_number_hash"),
        LiaisonLink.objects.order_by("pk").values_list("household__code", "member__id_number_hash", "started_on",
                                                       "ended_on"),
    ):
        for row in rows.iterator():
            # A sealed birth date is compared opened: its token has a fresh nonce each time.
            row = tuple(crypto.decrypt(v) if isinstance(v, str) and v.startswith(crypto.VERSION) else v for v in row)
            digest.update(repr(row).encode())
    return digest.hexdigest()


def loaded_digest(seed: int) -> str:
    """Load the demo, take the digest of its data, and roll the load back."""
    with transaction.atomic():
        call_command("load_demo", seed=seed, verbosity=0, stdout=StringIO())
        digest = data_digest()
        transaction.set_rollback(True)
    return digest


@pytest.fixture(scope="module")
def reference(django_db_setup, django_db_blocker) -> str:
    """The digest of the demo loaded once with SEED."""
    with django_db_blocker.unblock():
        return loaded_digest(SEED)


@pytest.fixture
def extra_seeder():
    """The seeder of an app still to come, drawing from its own stream before all the others; removed afterwards."""
    autodiscover_modules("demo")
    registered = list(seeders.seeders.items())
    draws = []

    def seed_extra(ctx: seeders.SeedContext) -> None:
        draws.extend(ctx.rng.random() for _ in range(1000))

    # Registered first, so it runs first: with one stream for all, it would shift every later draw.
    for name, _entry in registered:
        seeders.seeders.unregister(name)
    seeders.seeder("extra")(seed_extra)
    for name, entry in registered:
        seeders.seeders.register(name, entry)
    yield draws
    seeders.seeders.unregister("extra")


def test_the_same_seed_gives_the_same_data(reference):
    assert Household.objects.count() == 0  # the reference load was rolled back

    assert loaded_digest(SEED) == reference


def test_an_extra_seeder_run_first_changes_none_of_the_data_of_the_others(reference, extra_seeder):
    assert seeders.ordered()[0].name == "extra"

    assert loaded_digest(SEED) == reference
    assert len(extra_seeder) == 1000
