"""Refusals because of what is stored now, told apart from refusals of what was sent.

"该身份证号已经登记", "该联系关系已经结束", "网格不属于所选支部": the request itself is well formed and
could succeed against other data; it clashes with the records as they are. Such a ValidationError carries
the code "conflict" (Django's own unique checks carry "unique" or "unique_together"): forms show it like
any other error, the API answers it 409 instead of 422 (lianhu.common.api), so that a client can tell
"fix your request" from "the data is not in a state that allows it".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

CONFLICT_CODES = frozenset({"conflict", "unique", "unique_together"})


def conflict(message: str, field: str | None = None) -> ValidationError:
    """A refusal because of the stored data, on `field` (or on the whole request)."""
    error = ValidationError(message, code="conflict")
    return ValidationError({field: error}) if field else error


def is_conflict(exc: ValidationError) -> bool:
    """Whether every error of `exc` is a conflict: one plain error makes the request itself wrong (422)."""
    errors = [e for errors in exc.error_dict.values() for e in errors] if hasattr(exc, "error_dict") else exc.error_list
    return bool(errors) and all(e.code in CONFLICT_CODES for e in errors)
