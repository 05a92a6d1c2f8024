"""The bench harness itself works (tiny sample sizes; the numbers come from `make bench`)."""

import pytest
from django.urls import reverse

from bench.run import measure

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


def test_it_measures_the_bare_view_without_queries(bench_urls, client):
    result = measure(client, reverse("bench_bare"), requests=5, warmup=1, label="bare", progress=False)

    assert result.requests == 5
    assert 0 < result.median_ms <= result.p95_ms
    assert result.queries == 0


def test_it_measures_a_real_page_and_counts_its_queries(bench_urls, world, client_for):
    client = client_for(world.member_user)

    result = measure(client, reverse("dashboard:my_households"), requests=3, warmup=1, progress=False)

    assert result.queries > 0


def test_it_refuses_a_page_that_does_not_answer_200(bench_urls, client):
    with pytest.raises(SystemExit, match="HTTP 302"):
        measure(client, reverse("dashboard:my_households"), requests=1, warmup=1, progress=False)
