"""Small builders for tests and benchmarks that know no domain: ID numbers, API calls, a password,
races run for real (threads) or made to happen at a chosen moment."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

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


def at_once(calls: list) -> list:
    """Run each call in its own thread, all released together, each on its own database connection
    (closed afterwards); return what each returned, or the exception it raised, in order.

    For PostgreSQL (SQLite runs one write transaction at a time) in a `transaction=True` test.
    """
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        except Exception as e:  # handed back: the test looks at who was refused and why
            return e
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def meanwhile(monkeypatch, module, name: str, other, when=lambda *args: True) -> None:
    """Run `other()` once, right after `module.name(...)` returns for arguments that `when` accepts.

    A race made to happen at a chosen moment: patch the function a request reads its object with, and
    another writer's request lands between this request's read and its write, every time.
    """
    original = getattr(module, name)
    pending = [other]

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        if pending and when(*args, **kwargs):
            pending.pop()()
        return result

    monkeypatch.setattr(module, name, wrapped)
