"""The import benchmark's own file and office are sound (a tiny file; the figures come from `make bench`)."""

import pytest

from bench.bench_import import build_org, write_file
from lianhu.common import xlsx

pytestmark = pytest.mark.django_db


def test_the_benchmark_file_imports_cleanly_into_the_benchmark_office(tmp_path):
    office = build_org()
    path = tmp_path / "households.xlsx"
    write_file(path, 60)

    outcome = xlsx.import_file(xlsx.sheet_class("households")(office=office), path.read_bytes(), path.name, apply=True)

    assert outcome.ok, [p.message for p in outcome.errors[:3]]
    assert outcome.counts["居民"]["created"] == 60 and outcome.counts["户"]["created"] > 10


def test_it_reads_the_cpu_time_of_the_postgresql_server_process_and_nothing_on_sqlite():
    from django.db import connection

    from bench.bench_import import _server_cpu_reader

    read = _server_cpu_reader(connection)
    if connection.vendor != "postgresql":
        assert read() is None
        return
    before = read()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 5000000)")  # some 0.3 s of the server's CPU

    assert before is not None and read() - before >= 0.05
