"""Demo seeders run in dependency order, each on a random stream of its own."""

import pytest

from lianhu.common.seeders import SeedContext, ordered, seeder, seeders, stream


def _nothing(ctx: SeedContext) -> None:
    pass


@pytest.fixture
def registered():
    """Register test seeders by name; they are removed again after the test."""
    names = []

    def register(name, after=()):
        seeder(name, after=after)(_nothing)
        names.append(name)

    yield register
    for name in names:
        seeders.unregister(name)


def test_ordered_puts_a_seeder_after_those_it_names_whatever_the_order_of_registration(registered):
    registered("test_visits", after=("test_members",))
    registered("test_members", after=("test_people",))
    registered("test_people")

    names = [s.name for s in ordered()]

    assert names.index("test_people") < names.index("test_members") < names.index("test_visits")


def test_ordered_refuses_a_seeder_after_one_nobody_registered(registered):
    registered("test_visits", after=("test_missing",))

    with pytest.raises(KeyError, match="test_missing"):
        ordered()


def test_ordered_refuses_seeders_after_each_other(registered):
    registered("test_chicken", after=("test_egg",))
    registered("test_egg", after=("test_chicken",))

    with pytest.raises(ValueError, match="cycle"):
        ordered()


def test_a_stream_depends_on_the_seed_and_the_seeder_name_only():
    assert stream(1, "org").random() == stream(1, "org").random()
    assert stream(1, "org").random() != stream(1, "members").random()
    assert stream(1, "org").random() != stream(2, "org").random()
