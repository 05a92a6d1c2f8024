"""Periodic sweeps run by the background worker (`manage.py worker`), without anyone clicking.

A sweep is a function without arguments that does one pass of housekeeping and returns a short
summary of what it did (logged by the worker). Register one with `@sweep("name")`. Sweeps live in
this module or in an app's own `sweeps.py`, which the worker imports at start-up. A sweep must be
safe to run at any time and any number of times: it reads what is due now and acts only on that.

A sweep someone is waiting for (an uploaded file to check) also names a cheap `wake` test: the
worker asks it every second between passes and runs the sweep at once when it says there is work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

SweepFunc = Callable[[], str]

registry: dict[str, SweepFunc] = {}
wakers: dict[str, Callable[[], bool]] = {}  # sweep name -> "is there work for it now?"


def sweep(name: str, *, wake: Callable[[], bool] | None = None) -> Callable[[SweepFunc], SweepFunc]:
    """Register a function as the sweep `name`; `wake()`, if given, says whether it has work now."""

    def register(func: SweepFunc) -> SweepFunc:
        if name in registry and registry[name] is not func:
            raise ValueError(f"sweep {name!r} is registered twice")
        registry[name] = func
        if wake is not None:
            wakers[name] = wake
        return func

    return register


def awake(names: list[str]) -> list[str]:
    """Those of `names` whose wake test says they have work now (a failing test counts as no)."""
    due = []
    for name in names:
        test = wakers.get(name)
        if test is None:
            continue
        try:
            if test():
                due.append(name)
        except Exception:
            now = time.monotonic()
            if now - _wake_failures.get(name, -60.0) >= 60:  # asked every second: logged once a minute
                _wake_failures[name] = now
                logger.exception("wake test of sweep %s failed", name)
            if not connection.in_atomic_block:
                close_old_connections()  # a broken connection is opened afresh by the next test
    return due


_wake_failures: dict[str, float] = {}  # sweep name -> when its failing wake test was last logged


def autodiscover() -> None:
    """Import every installed app's `sweeps` module, so their @sweep registrations take effect."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("sweeps")


@dataclass(frozen=True)
class SweepResult:
    name: str
    ok: bool
    summary: str
    seconds: float


def run_sweeps(names: list[str] | None = None) -> list[SweepResult]:
    """Run the named sweeps (all, by default) once; one failing sweep does not stop the others."""
    results = []
    for name in names or sorted(registry):
        func = registry[name]
        started = time.monotonic()
        try:
            summary, ok = func(), True
        except Exception as exc:
            logger.exception("sweep %s failed", name)
            summary, ok = f"failed: {exc.__class__.__name__}: {exc}", False
        results.append(SweepResult(name=name, ok=ok, summary=summary, seconds=time.monotonic() - started))
    return results


@sweep("backup")
def daily_backup() -> str:
    from .backup import backup_if_due

    return backup_if_due()
