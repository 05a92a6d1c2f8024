#!/usr/bin/env python3
"""The 100,000-row households file, end to end, against calamine's raw read and PostgreSQL COPY.

    .venv/bin/python bench/bench_import.py                  # SQLite in a throwaway directory
    .venv/bin/python bench/bench_import.py --database-url postgres://postgres@127.0.0.1:5432/bench_import
    .venv/bin/python bench/bench_import.py --rows 20000     # a smaller file

The file (one row per resident, new households with a blank 户编号, realistic names, ID numbers,
phones, dates and tags from the demo generator) is built once and kept in bench/out/. Each
measurement runs in a fresh child process, so its peak memory (ru_maxrss) is its own:

- read: python-calamine's raw read of the sheet (to_python), the floor for any import;
- import: read + validate + store, as `import_xlsx households FILE` does, in one transaction;
- reimport: the same file again (every household is found again; zero changes);
- export: the office's households to xlsx with xlsxwriter, full (decrypting every ID number and phone);
- copy, copy_indexed (PostgreSQL): COPY of the very rows the import stored into empty copies of the
  tables, bare and with the same indexes.

Each step also reports its CPU time: this process's (Python, calamine's parse included) and, on a
PostgreSQL server on this machine, the server process's, read from /proc. Their sum against the
wall time shows how much of the work overlapped, and what two cores could do at best.

The PostgreSQL database named in --database-url is created and dropped again, so its name must
contain "bench". Results go to bench/out/import-<vendor>.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from bench.run import _configure_environment, _database_name, _postgres_admin  # noqa: E402

OFFICE = "基准办事处"
OFFICE_CODE = "410173199000"
GRIDS_PER_BRANCH = 4
LIMIT_SECONDS = {"postgresql": 5.0, "sqlite": 10.0}


def build_org():
    """One office of 17 branches with four grids each, named as in the file."""
    from lianhu.org.demo import MINGGANG
    from lianhu.org.models import Branch, BranchKind, Grid, Office, Zone

    zone = Zone.objects.create(name="基准区", code="410199")
    office = Office.objects.create(zone=zone, name=OFFICE, code=OFFICE_CODE)
    for i, name in enumerate(MINGGANG.branches, start=1):
        kind = BranchKind.COMMUNITY if name.endswith("社区") else BranchKind.VILLAGE
        branch = Branch.objects.create(office=office, name=name, kind=kind, code=f"{OFFICE_CODE[:9]}{i:03d}")
        Grid.objects.bulk_create([Grid(branch=branch, name=f"第{'一二三四'[g]}网格", code=f"{branch.code}{g + 1:03d}")
                                  for g in range(GRIDS_PER_BRANCH)])
    return office


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    """The households file a village would send: one row per resident, new households without a code."""
    from lianhu.common.xlsx import write_workbook
    from lianhu.org.demo import MINGGANG, SURNAME_CUM, People
    from lianhu.org.sheets import HouseholdSheet

    rng = random.Random(seed)
    people = People(rng)
    branches = MINGGANG.branches

    def generate():
        written, house = 0, 0
        while written < rows:
            house += 1
            branch = branches[house % len(branches)]
            grid = f"第{'一二三四'[rng.randrange(GRIDS_PER_BRANCH)]}网格"
            group = f"{'一二三四五六七八九十'[rng.randrange(10)]}组"
            self_built = rng.random() < 0.8
            head = [None, branch, grid, f"{branch}{group}{house}号", group, "是" if self_built else "否",
                    rng.choice((1, 2, 3)) if self_built else None, rng.randint(1985, 2022) if self_built else None]
            place = [round(113.7 + rng.random() * 0.2, 6), round(34.4 + rng.random() * 0.2, 6), None]
            for r in people.household(SURNAME_CUM):
                if written >= rows:
                    return
                yield head + [r.name, r.relation, "男" if r.gender == "M" else "女", r.birth_date, r.id_number,
                              r.phone, "、".join(r.care_tags), "、".join(r.sensitive_tags)] + place
                written += 1
                head = [None, branch, grid, f"{branch}{group}{house}号", group, None, None, None]

    write_workbook(path, sheet_name="户籍", title=f"{OFFICE}户籍（基准测试）", columns=HouseholdSheet.columns,
                   rows=generate(), options={}, instructions=["基准测试数据"], blank_rows=0)


# ---------------------------------------------------------------------------------------------
# Measurements, each in its own process


def measure(step: str, path: Path) -> dict:
    import django

    django.setup()
    from django.db import connection

    from lianhu.common import xlsx
    from lianhu.org.models import Office

    data = path.read_bytes()
    office = Office.objects.get(name=OFFICE)
    sheet = xlsx.sheet_class("households")(office=office)
    server_cpu = _server_cpu_reader(connection)
    cpu_before = (_own_cpu(), server_cpu())
    started = time.perf_counter()
    result: dict = {"step": step}
    if step == "read":
        from python_calamine import CalamineWorkbook

        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("户籍").to_python()
        result["rows"] = len(grid) - 2
    elif step in ("import", "reimport"):
        outcome = xlsx.import_file(sheet, data, path.name, apply=True)
        if not outcome.ok:
            raise SystemExit(f"{step}: {len(outcome.errors)} errors, e.g. {outcome.errors[0].where} {outcome.errors[0].message}")
        result["rows"], result["counts"] = outcome.rows, outcome.counts
    elif step == "export":
        out = Path(tempfile.mkdtemp()) / "export.xlsx"
        result["rows"] = sheet.write_export(out, sheet.export_queryset(), masked=False)
    elif step in ("copy", "copy_indexed"):
        result.update(_copy_same_rows(connection, indexed=step == "copy_indexed"))
        started = time.perf_counter() - result.pop("seconds")
    result["seconds"] = time.perf_counter() - started
    if step not in ("copy", "copy_indexed"):  # those time only the COPY, not what read the rows
        result["python_cpu"] = _own_cpu() - cpu_before[0]
        server = server_cpu()
        result["server_cpu"] = None if server is None else server - cpu_before[1]
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu_reader(connection):
    """() -> CPU seconds used so far by this connection's PostgreSQL server process, or None when
    there is none to read (SQLite, or a server on another machine)."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)  # "pid (name) state ..."
        except (OSError, IndexError, ValueError):
            return None
        if not name.startswith("postgres"):  # the server is elsewhere: this pid is another local process
            return None
        fields = fields.split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime: fields 14 and 15 of proc(5)

    return read


def _copy_same_rows(connection, *, indexed: bool) -> dict:
    """COPY the stored households and residents into empty copies of their tables; only the COPY is timed.

    indexed=False: bare copies (the speed of COPY itself); indexed=True: copies with the same indexes
    and checks as the real tables (what any loader of these rows must pay; foreign keys left out).
    """
    from django.db import transaction

    from lianhu.org.models import Household, Resident

    tables = []
    for model in (Household, Resident):
        columns = [f.column for f in model._meta.concrete_fields]  # ids too: the copies have no identity default
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table}")
            tables.append((model._meta.db_table, columns, cursor.fetchall()))
    rows = seconds = 0
    like = "INCLUDING ALL EXCLUDING IDENTITY" if indexed else "INCLUDING DEFAULTS"
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, data in tables:
            cursor.execute(f"CREATE TEMP TABLE copy_{table} (LIKE {table} {like}) ON COMMIT DROP")
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY copy_{table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            seconds += time.perf_counter() - started
            rows += len(data)
        transaction.set_rollback(True)
    return {"rows": rows, "seconds": seconds}


def _cpu_text(result: dict) -> str:
    if "python_cpu" not in result:
        return ""
    server = result.get("server_cpu")
    return f"  cpu: python {result['python_cpu']:.2f} s" + ("" if server is None else f", postgresql {server:.2f} s")


def _child(step: str, path: Path) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--child", step, "--file", str(path)], env=os.environ.copy(),
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{step} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL of a database to create and drop "
                        "(name must contain 'bench'); default: SQLite in a temporary directory")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--fail-over-limit", action="store_true",
                        help="exit 1 when the import takes longer than the limit (default: report it, exit 0, "
                             "so that `make bench` goes on to the next benchmark)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:  # environment already configured by the parent
        print(json.dumps(measure(args.child, Path(args.file)), ensure_ascii=False))
        return 0

    out = BASE_DIR / "bench" / "out"
    out.mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="lianhu-bench-import-"))
    if args.database_url:
        name = _database_name(args.database_url)
        _postgres_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres_admin(args.database_url, f'CREATE DATABASE "{name}"')
    _configure_environment(data_dir, args.database_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        vendor = connection.vendor
        call_command("migrate", verbosity=0)
        build_org()
        path = out / f"households-{args.rows}.xlsx"
        if not path.exists():
            started = time.perf_counter()
            write_file(path, args.rows)
            print(f"wrote {path.relative_to(BASE_DIR)} in {time.perf_counter() - started:.1f} s", flush=True)
        connections.close_all()

        steps = ["read", "import", "reimport", "export"] + (["copy", "copy_indexed"] if vendor == "postgresql" else [])
        results = {}
        for step in steps:
            results[step] = _child(step, path)
            r = results[step]
            print(f"{step:<9} {r['rows']:>8,} rows {r['seconds']:>7.2f} s {r['rows'] / r['seconds']:>9,.0f} rows/s "
                  f"peak {r['peak_mb']:>5.0f} MB{_cpu_text(r)}", flush=True)
        imported = results["import"]
        within = imported["seconds"] <= LIMIT_SECONDS[vendor]
        lines = [
            f"{vendor}: {imported['rows']:,} rows imported end to end in {imported['seconds']:.2f} s "
            f"(limit {LIMIT_SECONDS[vendor]:.0f} s{'' if within else ': OVER THE LIMIT'}), "
            f"{imported['rows'] / imported['seconds']:,.0f} rows/s, "
            f"peak {imported['peak_mb']:.0f} MB",
            f"  = {imported['seconds'] / results['read']['seconds']:.1f} x calamine's raw read "
            f"({results['read']['rows'] / results['read']['seconds']:,.0f} rows/s)",
        ]
        for step, what in (("copy", "into bare tables"), ("copy_indexed", "into tables with the same indexes")):
            if step in results:
                c = results[step]
                lines.append(f"  = {imported['seconds'] / c['seconds']:.1f} x PostgreSQL COPY of the same "
                             f"{c['rows']:,} stored rows {what} ({c['rows'] / c['seconds']:,.0f} rows/s)")
        if imported.get("server_cpu") is not None:
            work = imported["python_cpu"] + imported["server_cpu"]
            lines.append(f"  work: {imported['python_cpu']:.2f} s of Python CPU (calamine's read included) + "
                         f"{imported['server_cpu']:.2f} s of PostgreSQL CPU = {work:.2f} CPU-seconds; "
                         f"on 2 cores at best {work / 2:.2f} s, if every part overlapped")
        print("\n".join(lines))
        (out / f"import-{vendor}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                                                   encoding="utf-8")
        return 0 if within or not args.fail_over_limit else 1
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.database_url:
            _postgres_admin(args.database_url, f'DROP DATABASE IF EXISTS "{_database_name(args.database_url)}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
