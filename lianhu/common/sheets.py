"""The sheet registry: every kind of spreadsheet the import and export pages handle.

Each domain app declares its sheets in `<app>/sheets.py` (subclasses of `xlsx.RosterSheet`) and
registers them in its AppConfig.ready(); the spreadsheets app drives uploads, previews, exports and
the `import_xlsx` / `export_xlsx` commands from this registry alone, so a new ledger (visits,
hazards …) arrives without touching it.
"""

from __future__ import annotations

from .registry import Registry

sheets: Registry[type] = Registry("sheet kind")


def register_sheet(cls: type) -> type:
    """Register a RosterSheet subclass under its `kind` (usable as a class decorator)."""
    if not cls.kind or not cls.label:
        raise ValueError(f"{cls.__name__} needs a kind and a label to be registered")
    return sheets.register(cls.kind, cls)


def sheet_class(kind: str) -> type:
    """The sheet registered as `kind`; UnknownEntry (a KeyError) if there is none."""
    return sheets[kind]


def sheet_label(kind: str, *, short: bool = False) -> str:
    """The sheet's label (户籍（户与居民）), or with `short` the one the audit log uses (户籍)."""
    cls = sheets.get(kind)
    if cls is None:
        return kind
    return (getattr(cls, "short_label", "") or cls.label) if short else cls.label
