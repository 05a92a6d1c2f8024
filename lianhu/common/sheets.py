"""The sheet registry: every kind of spreadsheet the import and export pages handle.

Each domain app declares its sheets in `<app>/sheets.py` (subclasses of `xlsx.RosterSheet`) and
registers them in its AppConfig.ready(); the spreadsheets app drives uploads, previews, exports and
the `import_xlsx` / `export_xlsx` commands from this registry alone, so a new ledger (visits,
hazards …) arrives without touching it. A sheet says what the pages need to know of it: whether it
can be imported at all (`importable`: the audit log is only exported), the action its export reads
the rows with (`export_action`: "view", or "view_audit" for the log), and whether it holds personal
data (`personal_data`: masked for those who may not reveal; a sheet without any is never masked).
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


def importable_kinds() -> list[str]:
    """The kinds a file can be imported as (templates, uploads, `import_xlsx`)."""
    return [kind for kind, cls in sheets.items() if cls.importable]


def sheet_holds_personal_data(kind: str) -> bool:
    """Whether an export of `kind` carries personal data (an unknown kind, once registered, is assumed to)."""
    cls = sheets.get(kind)
    return cls is None or cls.personal_data


def sheet_label(kind: str, *, short: bool = False) -> str:
    """The sheet's label (户籍（户与居民）), or with `short` the one the audit log uses (户籍)."""
    cls = sheets.get(kind)
    if cls is None:
        return kind
    return (getattr(cls, "short_label", "") or cls.label) if short else cls.label
