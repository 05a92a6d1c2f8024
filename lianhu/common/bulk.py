"""Writing many rows fast: PostgreSQL COPY, SQLite executemany, inside the caller's transaction.

Django's bulk_create spends its time in Python building and preparing model instances (about 14-16k
rows/s here, MEASURED.md); the spreadsheet import must store 100k rows in a few seconds. The caller
passes plain tuples whose values are already valid for the column (str, int, float, bool, date,
datetime, None; JSON fields as Python lists, tuples or dicts), so nothing runs per value but the
adapters a column type needs on a given database, memoised where values repeat. Validation is the
caller's job; constraints stay in the database and still refuse a bad row.
"""

from __future__ import annotations

import json
from datetime import date
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager

from django.db import connections, models, router
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

Adapter = Callable[[object], object]


def _adapters(model: type[models.Model], fields: Sequence[str], connection) -> list[Adapter | None]:
    result: list[Adapter | None] = []
    for name in fields:
        field = model._meta.get_field(name)
        kind = field.get_internal_type()
        if kind == "JSONField":
            result.append(_json_adapter())
        elif connection.vendor == "sqlite" and kind == "DateField":
            result.append(_memo(date.isoformat))  # birth dates repeat down a roster
        elif kind == "DateTimeField":
            result.append(_memo_last(connection.ops.adapt_datetimefield_value))  # one timestamp for a whole import
        else:
            result.append(None)
    return result


def _json_adapter() -> Adapter:
    """JSON text of a value; a JSON array may come as a tuple, encoded once per distinct value (tags repeat)."""
    cache: dict[tuple, str] = {}

    def adapt(value):
        if value is None:
            return None
        if value.__class__ is tuple:
            try:
                return cache[value]
            except KeyError:
                text = cache[value] = json.dumps(list(value), ensure_ascii=False)
                return text
        return json.dumps(value, ensure_ascii=False)

    return adapt


def _memo(func: Adapter) -> Adapter:
    cache: dict = {None: None}

    def adapt(value):
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = func(value)
            return result

    return adapt


def _memo_last(func: Adapter) -> Adapter:
    last: list = [object(), None]

    def adapt(value):
        if value is not last[0]:
            last[0], last[1] = value, func(value)
        return last[1]

    return adapt


def _adapt(rows: Iterable[Sequence], adapters: list[Adapter | None]) -> Iterable[Sequence]:
    """The rows with each value passed through its column's adapter (as lists: both drivers take them)."""
    pairs = [(i, a) for i, a in enumerate(adapters) if a is not None]
    if not pairs:
        return rows

    def adapt(row):
        row = list(row)
        for i, adapter in pairs:
            row[i] = adapter(row[i])
        return row

    return map(adapt, rows)


@contextmanager
def _roomy_cache(cursor, kib: int = 262144):
    """A bigger SQLite page cache while many rows go in: the keyed-hash indexes are written at random,
    and with the default 2 MB cache 100k rows take twice as long. Restored afterwards."""
    cursor.execute("PRAGMA cache_size")
    previous = cursor.fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` (tuples in the order of `fields`, attnames such as "household_id"); return the count."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = [meta.get_field(f).column for f in fields]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    adapted = _adapt(rows, _adapters(model, fields, connection))
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, connection.wrap_database_errors:
            # The raw psycopg cursor (Django's wrapper has no COPY), its errors raised as Django's.
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in adapted:
                    copy.write_row(row)
                    count += 1
        return count
    if connection.vendor == "sqlite":
        placeholders = ", ".join(["%s"] * len(fields))
        batch: list[tuple] = []
        with connection.cursor() as cursor, _roomy_cache(cursor):
            for row in adapted:
                batch.append(row)
                if len(batch) >= 5000:
                    cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", batch)
                count += len(batch)
        return count
    objs = [model(**dict(zip(fields, row))) for row in rows]
    model._default_manager.bulk_create(objs, batch_size=1000)
    return len(objs)


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Set `fields` on each row; every tuple is (pk, *values in the order of `fields`)."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(meta.get_field(f).column)} = %s" for f in fields)
    pk = connection.ops.quote_name(meta.pk.column)
    adapters = _adapters(model, fields, connection)
    # The pk leads each tuple; it goes last to match "... WHERE pk = %s".
    params = list(_adapt(((*r[1:], r[0]) for r in rows), adapters + [None]))
    if not params:
        return 0
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", params)
    return len(params)


def one_of(model: type[models.Model], field: str, values: Iterable):
    """A filter for "`field` is one of `values`" that stays one parameter however many values there are.

    Django's __in writes a placeholder per value: for 100k ID hashes, building, parsing and planning
    the statements costs more than the look-ups (1.1 s on PostgreSQL and 0.65 s on SQLite, against
    0.13 s and 0.1 s this way). The values go as one JSON text, which both databases unpack in C and
    join as a set (a PostgreSQL array costs twice as much to pass, and `= ANY(array)` is checked row
    by row against the whole array: 2 s for the 33k households of one office). Strings or integers.
    """
    values = list(values)
    connection = connections[router.db_for_read(model)]
    if not values or connection.vendor not in ("postgresql", "sqlite"):
        return Q(**{f"{field}__in": values})
    meta, quote = model._meta, connection.ops.quote_name
    column = f"{quote(meta.db_table)}.{quote(meta.pk.column if field == 'pk' else meta.get_field(field).column)}"
    if connection.vendor == "postgresql":
        element = "json_array_elements_text(%s::json)"
        if all(v.__class__ is int for v in values):
            element = f"({element})::bigint"
        return RawSQL(f"{column} IN (SELECT {element})", (json.dumps(values),), output_field=BooleanField())
    return RawSQL(f"{column} IN (SELECT value FROM json_each(%s))", (json.dumps(values),), output_field=BooleanField())
