import pytest

from lianhu.accounts.tests.factories import VerifiedClient
from tests.world import make_world


@pytest.fixture
def client():
    """Django's test client, whose force_login also completes a user's second factor (VerifiedClient)."""
    return VerifiedClient()


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def client_for(client):
    """Log a persona in: client_for(world.secretary_a)."""

    def login(user):
        client.force_login(user)
        return client

    return login
