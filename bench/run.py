#!/usr/bin/env python3
"""Server time per request for the main pages, measured in-process against a bare Django view.

    make bench                                   # SQLite in a throwaway directory
    make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_lianhu
    .venv/bin/python bench/run.py --requests 500 --database-url ...

It builds a fresh database (migrate + load_demo), logs the demo users in with django.test.Client,
and times each page: 20 warm-up requests, then 200 measured ones; it prints median and p95 in ms,
the number of queries per request and the ratio to the bare view (same middleware, no work). The
PostgreSQL database named in --database-url is created and dropped again, so its name must contain
"bench". Results are also written to bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

OFFICE_NAME = "明港办事处"


@dataclass
class Measurement:
    page: str
    url: str
    user: str
    requests: int
    median_ms: float
    p95_ms: float
    queries: int
    ratio_to_bare: float = 1.0


def measure(client, url: str, *, requests: int = 200, warmup: int = 20, label: str = "", user: str = "",
            progress: bool = True) -> Measurement:
    """Time `requests` GETs of `url` after `warmup` ones; count the queries of one more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tqdm import tqdm

    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} as {user or 'anonymous'}: HTTP {response.status_code}, expected 200")
    times = []
    for _ in tqdm(range(requests), desc=f"{label or url:<12}", unit="req", leave=False,
                  disable=None if progress else True):  # None: only on a terminal
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    # Counted on a separate request: capturing queries has a cost of its own.
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 2 else times[0]
    return Measurement(page=label or url, url=url, user=user, requests=requests, median_ms=statistics.median(times),
                       p95_ms=p95, queries=len(queries))


def _configure_environment(data_dir: Path, database_url: str) -> None:
    """Before Django starts: a throwaway data dir and keys, production-like settings (DEBUG off)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["LIANHU_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = database_url  # empty: SQLite in data_dir; never the caller's database
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = "bench-secret-key-not-for-production-0123456789"
    os.environ["LIANHU_DATA_KEY"] = "bench-data-key-0123456789-0123456789-abcdef"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["LIANHU_DEMO_MODE"] = "1"  # the pages are measured as the demo accounts
    os.environ.setdefault("LIANHU_LOG_LEVEL", "WARNING")


def _postgres_admin(database_url: str, statement: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(statement)


def _database_name(database_url: str) -> str:
    name = urlsplit(database_url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"--database-url: the database is dropped afterwards, so its name must contain 'bench' (got {name!r})")
    return name


def run(*, requests: int, warmup: int) -> list[Measurement]:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    from lianhu.accounts.models import User
    from lianhu.org.models import Household, Office

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo")
    print(f"database ready in {time.perf_counter() - started:.1f} s: {connection.vendor}, "
          f"{Household.objects.count()} households", flush=True)

    office = Office.objects.get(name=OFFICE_NAME)
    clients = {}
    for username in ("minggang", "member"):
        clients[username] = Client()
        clients[username].force_login(User.objects.get(username=username))

    with override_settings(ROOT_URLCONF="bench.urls"):
        pages = [
            ("bare view", "minggang", reverse("bench_bare")),
            ("office", "minggang", reverse("dashboard:office_overview", args=[office.pk])),
            ("my", "member", reverse("dashboard:my_households")),
        ]
        results = [
            measure(clients[user], url, requests=requests, warmup=warmup, label=label, user=user)
            for label, user, url in pages
        ]
    bare = results[0].median_ms
    for result in results:
        result.ratio_to_bare = result.median_ms / bare
    return results


def report(results: list[Measurement], vendor: str) -> str:
    lines = [
        f"{'page':<10} {'user':<9} {'url':<16} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'x bare':>7}",
    ]
    for r in results:
        lines.append(f"{r.page:<10} {r.user:<9} {r.url:<16} {r.median_ms:>10.2f} {r.p95_ms:>8.2f} {r.queries:>8} "
                     f"{r.ratio_to_bare:>7.1f}")
    lines.append(f"({vendor}; Python {platform.python_version()}; {results[0].requests} requests each, "
                 "in-process django.test.Client, DEBUG off)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL of a database to create and drop "
                        "(name must contain 'bench'); default: SQLite in a temporary directory")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="lianhu-bench-"))
    if args.database_url:
        name = _database_name(args.database_url)
        _postgres_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres_admin(args.database_url, f'CREATE DATABASE "{name}"')
    _configure_environment(data_dir, args.database_url)
    try:
        results = run(requests=args.requests, warmup=args.warmup)
        from django.db import connection

        vendor = connection.vendor
        print()
        print(report(results, vendor))
        out = BASE_DIR / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"pages-{vendor}.json").write_text(
            json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.database_url:
            _postgres_admin(args.database_url, f'DROP DATABASE IF EXISTS "{_database_name(args.database_url)}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
