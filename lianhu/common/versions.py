"""Optimistic concurrency for edits: a record's version, the refusal of a stale one, and partial writes.

A record's version is its `updated_at` (decisions.md, "Edits: …"): every write sets it, the bulk
writers of the imports included, and the services compare it under the row lock, so an edit made
from an older read is refused instead of overwriting what was saved in between.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection

from django.core.exceptions import FieldDoesNotExist
from django.db import models


class StaleVersion(Exception):
    """The record changed since the version the writer read (412 in the API, the current values on a form)."""


def version_of(obj: models.Model) -> str:
    """The version of `obj` as a token: its `updated_at` in microseconds since the epoch."""
    at = obj.updated_at
    return str(calendar.timegm(at.utctimetuple()) * 1_000_000 + at.microsecond)


def refuse_stale(obj: models.Model, expected: str | Collection[str] | None) -> None:
    """Raise StaleVersion unless `obj` (read under its row lock) is at one of the `expected` versions.

    None means the writer named no version: the write goes ahead on the current row.
    """
    if expected is None:
        return
    wanted = {expected} if isinstance(expected, str) else set(expected)
    if version_of(obj) not in wanted:
        raise StaleVersion


def apply_changes(obj: models.Model, changes: dict) -> list[str]:
    """Set the given fields on `obj`; return the names of those whose value differs from what it held.

    A foreign key may be given as an object or None. Only the returned fields need writing.
    """
    changed = []
    for name, value in changes.items():
        try:
            attname = obj._meta.get_field(name).attname
        except FieldDoesNotExist:  # a property over sealed columns (SealedPersonalData.birth_date)
            attname = name
        new = value.pk if isinstance(value, models.Model) else value
        if getattr(obj, attname) != new:
            changed.append(name)
        setattr(obj, name, value)
    return changed
