"""The background worker: runs every registered sweep, waits, and runs them again (Healthchecks' sendalerts).

    python manage.py worker                 # every 60 seconds until SIGTERM or Ctrl-C
    python manage.py worker --once          # one pass, then exit (cron, tests)
    python manage.py worker --sweep audit_retention --interval 300
"""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.utils import timezone

from lianhu.common import sweeps


class Command(BaseCommand):
    help = "Run the periodic sweeps (deadlines, retention) every --interval seconds; --once for one pass."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=60, help="seconds between passes (default 60)")
        parser.add_argument("--once", action="store_true", help="run one pass and exit; non-zero exit if a sweep failed")
        parser.add_argument("--sweep", action="append", dest="names", metavar="NAME", help="run only this sweep (repeatable)")

    def handle(self, *args, interval: float, once: bool, names: list[str] | None, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        sweeps.autodiscover()
        unknown = sorted(set(names or ()) - set(sweeps.registry))
        if unknown:
            raise CommandError(f"unknown sweep(s): {', '.join(unknown)}; known: {', '.join(sorted(sweeps.registry))}")
        self.stopping = False

        if once:
            results = self.run_pass(names)
            failed = [r.name for r in results if not r.ok]
            if failed:
                raise CommandError(f"sweep(s) failed: {', '.join(failed)}")
            return

        previous = {sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        self.say(f"worker started: {', '.join(names or sorted(sweeps.registry))} every {interval:g} s")
        try:
            selected = names or sorted(sweeps.registry)
            while not self.stopping:
                self.run_pass(selected)
                self.sleep(interval, selected)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.say("worker stopped")

    def run_pass(self, names: list[str] | None) -> list[sweeps.SweepResult]:
        results = []
        for name in names or sorted(sweeps.registry):
            if self.stopping:
                break
            result = sweeps.run_sweeps([name])[0]
            line = f"sweep {result.name}: {result.summary} ({result.seconds * 1000:.0f} ms)"
            self.say(line, self.style.ERROR if not result.ok else None)
            results.append(result)
        # A long-running process must not keep a broken or expired connection between passes (never
        # close one inside a transaction, as a test's would be).
        if not connection.in_atomic_block:
            close_old_connections()
        return results

    def sleep(self, seconds: float, names: list[str]) -> None:
        """Sleep in slices of a second, so a signal stops the worker within a second, and a sweep
        whose wake test finds work (a file someone is waiting for) runs at once instead of at the
        next pass."""
        deadline = time.monotonic() + seconds
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 1.0))
            due = sweeps.awake(names)
            if due and not self.stopping:
                self.run_pass(due)

    def say(self, message: str, style=None) -> None:
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {message}"
        self.stdout.write(style(line) if style else line)
        self.stdout.flush()  # a log file or pipe should see each line as it happens

    def on_signal(self, signum, frame):
        self.say(f"got {signal.Signals(signum).name}: stopping after the current sweep")
        self.stopping = True
