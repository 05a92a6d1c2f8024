import datetime as dt
import io
import os
import signal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from lianhu.audit.models import AuditEntry
from lianhu.common import sweeps

pytestmark = pytest.mark.django_db


def make_entry(age_days: float, label: str) -> AuditEntry:
    """An audit entry written `age_days` ago (auto_now_add takes `at` from timezone.now, and updates are refused)."""
    written_at = timezone.now() - dt.timedelta(days=age_days)
    with mock.patch("django.utils.timezone.now", return_value=written_at):
        return AuditEntry.objects.create(action="login", actor_label=label)


def run_worker(*args) -> str:
    out = io.StringIO()
    call_command("worker", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def extra_sweeps(monkeypatch):
    """Register sweeps for one test only."""
    monkeypatch.setattr(sweeps, "registry", dict(sweeps.registry))
    return sweeps.registry


def test_once_deletes_entries_older_than_retention_and_keeps_younger_ones(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = make_entry(400, "old")
    young = make_entry(200, "young")

    output = run_worker("--once")

    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=young.pk).exists()
    assert "sweep audit_retention: deleted 1 audit entries older than 365 days" in output


def test_retention_never_deletes_entries_younger_than_180_days(settings):
    settings.AUDIT_RETENTION_DAYS = 30  # below the floor: settings refuses it, the sweep must too
    entry = make_entry(100, "recent")

    run_worker("--once", "--sweep", "audit_retention")

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("retention_days", [30, 180])
def test_the_purge_stops_at_180_days_on_both_sides(settings, retention_days):
    """Kept at least 180 days: an entry a quarter of an hour short of them stays, one past them (and the
    sweep's hour of slack) goes, whatever the setting says below the floor."""
    settings.AUDIT_RETENTION_DAYS = retention_days
    younger = make_entry(180 - 0.25 / 24, "just under 180 days")
    older = make_entry(180 + 2 / 24, "just over 180 days")

    run_worker("--once", "--sweep", "audit_retention")

    assert AuditEntry.objects.filter(pk=younger.pk).exists()
    assert not AuditEntry.objects.filter(pk=older.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row deletes are refused by the PostgreSQL trigger")
def test_postgresql_itself_refuses_to_delete_an_entry_younger_than_180_days_and_allows_an_older_one():
    from django.db import DatabaseError, transaction

    younger = make_entry(180 - 0.25 / 24, "just under 180 days")
    older = make_entry(180 + 0.25 / 24, "just over 180 days")
    with pytest.raises(DatabaseError, match="kept at least 180 days"), transaction.atomic():
        AuditEntry.objects.filter(pk=younger.pk).delete()
    AuditEntry.objects.filter(pk=older.pk).delete()
    assert list(AuditEntry.objects.values_list("actor_label", flat=True)) == ["just under 180 days"]


def test_a_failing_sweep_is_reported_and_the_others_still_run(extra_sweeps):
    ran = []

    @sweeps.sweep("broken")
    def broken():
        raise RuntimeError("disk on fire")

    @sweeps.sweep("zz_after_broken")
    def after():
        ran.append(True)
        return "fine"

    out = io.StringIO()
    with pytest.raises(CommandError, match="broken"):
        call_command("worker", "--once", stdout=out)

    assert ran == [True]
    assert "sweep broken: failed: RuntimeError: disk on fire" in out.getvalue()
    assert "sweep zz_after_broken: fine" in out.getvalue()


def test_it_rejects_an_unknown_sweep():
    with pytest.raises(CommandError, match="unknown sweep"):
        run_worker("--once", "--sweep", "no_such_sweep")


def test_the_same_name_cannot_be_registered_twice(extra_sweeps):
    sweeps.sweep("twice")(lambda: "one")
    with pytest.raises(ValueError):
        sweeps.sweep("twice")(lambda: "two")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_loop_after_the_current_pass(extra_sweeps, signum):
    passes = []

    @sweeps.sweep("signals_itself")
    def signals_itself():
        passes.append(True)
        os.kill(os.getpid(), signum)
        return "sent"

    before = signal.getsignal(signum)
    output = run_worker("--interval", "3600", "--sweep", "signals_itself")  # would sleep an hour if not stopped

    assert passes == [True]
    assert "stopping after the current sweep" in output
    assert "worker stopped" in output
    assert signal.getsignal(signum) is before


def test_between_passes_a_sweep_with_work_waiting_runs_at_once(extra_sweeps, monkeypatch, caplog):
    """An uploaded file is taken up within a second or two, not at the next pass an hour later."""
    monkeypatch.setattr(sweeps, "wakers", {})
    monkeypatch.setattr(sweeps, "_wake_failures", {})
    looks, passes = [], []

    def wake():
        looks.append(True)
        return len(looks) == 2  # nothing waiting at the first look, a file at the second

    def take_up():
        passes.append(len(looks))
        if len(passes) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return "taken"

    sweeps.sweep("uploads", wake=wake)(take_up)
    sweeps.sweep("quiet", wake=lambda: 1 / 0)(lambda: "nothing")  # a failing wake test is only logged
    output = run_worker("--interval", "3600", "--sweep", "uploads", "--sweep", "quiet")

    assert passes == [0, 2]  # the pass at start, then the one the second look asked for
    assert output.count("sweep uploads: taken") == 2 and output.count("sweep quiet: nothing") == 1
    failures = [r for r in caplog.records if r.getMessage() == "wake test of sweep quiet failed"]
    assert len(failures) == 1  # asked every second, failing each time: logged once a minute
