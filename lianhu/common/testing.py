"""Small builders for tests and benchmarks that know no domain: ID numbers, API calls, a password."""

from __future__ import annotations

import itertools
import json

from stdnum.cn import ric

_seq = itertools.count(1)

PASSWORD = "test-password-123"


def valid_id_number(birth: str = "19910101", region: str = "410184", serial: int | None = None) -> str:
    """A check-digit-valid 18-digit ID number (synthetic)."""
    serial = next(_seq) % 1000 if serial is None else serial
    body = f"{region}{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last digit


def next_number() -> int:
    """A number no other call in this test run returns (names and codes of test objects)."""
    return next(_seq)


API = "/api/v1"


def api_call(client, method, url, body=None):
    """client.post etc. on /api/v1 with a JSON body."""
    if body is None:
        return getattr(client, method)(API + url)
    return getattr(client, method)(API + url, data=json.dumps(body), content_type="application/json")


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


class PksOf(dict):
    """Fills "/members/{member_a}" with the pk of world.member_a."""

    def __init__(self, world):
        super().__init__()
        self.world = world

    def __missing__(self, name):
        return getattr(self.world, name).pk
