"""Audit verbs: each app registers the verbs it writes, with their Chinese labels, in ready().

The log stores a verb as a plain string (no choices), so a new verb needs no migration (Zulip's
RealmAuditLog.event_type). `audit_log` refuses a verb nobody registered, so a typo fails its test
instead of writing entries nobody can filter on.
"""

from __future__ import annotations

from lianhu.common.registry import Registry

verbs: Registry[str] = Registry("audit verb")  # verb → label


def register_verb(verb: str, label: str) -> str:
    verbs.register(verb, label)
    return verb


def verb_label(verb: str) -> str:
    """The label of a verb; an entry written by an app since removed shows its verb as it is."""
    return verbs.get(verb, verb)


# Filters and counts an import or export entry's detail may hold, as the log shows them.
FILTER_LABELS: Registry[str] = Registry("audit filter label")
COUNT_LABELS = {"created": "新增", "updated": "更新", "unchanged": "不变", "ended": "结束"}
