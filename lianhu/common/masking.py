"""How personal data looks when it is not revealed: 410*************34, 138****1234, 张*.

An ID number keeps its first 3 and last 2 characters: with the birth year (the only part of the birth
date kept in clear) that leaves every number at least 1,000 candidates, where the first 3 and last 4
with the birth date left exactly one (docs/security.md, "What stays in clear").
"""

import re

_LONG_DIGITS = re.compile(r"\d{17}[Xx]|\d{7,}")  # an ID number with its X, or any run of 7+ digits


ID_HEAD, ID_TAIL = 3, 2


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) <= ID_HEAD + ID_TAIL + 2:
        return "*" * len(value)
    return value[:ID_HEAD] + "*" * (len(value) - ID_HEAD - ID_TAIL) + value[-ID_TAIL:]


def remask_id_number(masked: str) -> str:
    """A masked number of the first 3 and last 4 as the new mask shows it, without opening the number."""
    return mask_id_number(masked) if masked else ""


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def age_on(birth_date, today=None) -> int | None:
    """Whole years (周岁), for the rules (a member must be 18): never shown, since the day it changes
    would tell the birth date."""
    if birth_date is None:
        return None
    from django.utils import timezone

    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def age_this_year(birth_year: int | None, today=None) -> int | None:
    """The age a person reaches this year (今年满 N 岁), from the birth year alone: what lists show."""
    if birth_year is None:
        return None
    from django.utils import timezone

    return (today or timezone.localdate()).year - birth_year


def mask_name(value: str) -> str:
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def mask_digit_runs(text: str) -> str:
    """Free text (a search, a file's name) with every run of 7 or more digits masked as a phone is:
    an ID number, with or without its check digit, or a phone number typed into it is not kept."""
    return _LONG_DIGITS.sub(_mask_digits, text)


def _mask_digits(match: re.Match) -> str:
    digits = match[0]
    if len(digits) >= 15:  # an ID number, whole or without its check digit: as ID numbers are shown
        return mask_id_number(digits)
    head, tail = (3, 4) if len(digits) >= 11 else (2, 2)  # 139****5678, as phones are shown
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[-tail:]


def mask_birth_year(birth_year: int | None) -> str | None:
    """A birth date shown masked: its year only, which is all that is kept in clear."""
    return f"{birth_year}年" if birth_year else None
