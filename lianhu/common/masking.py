"""How personal data looks when it is not revealed: 410***********1234, 138****1234, 张*."""

import re

_LONG_DIGITS = re.compile(r"\d{7,}")


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def age_on(birth_date, today=None) -> int | None:
    """Whole years; shown instead of the birth date to those who may not reveal, since the birth date
    plus the masked number's last four digits would give the whole ID number back."""
    if birth_date is None:
        return None
    from django.utils import timezone

    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


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
    head, tail = (3, 4) if len(digits) >= 11 else (2, 2)  # 139****5678, as phones are shown
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[-tail:]


def mask_birth_date(birth_date) -> str | None:
    """A birth date shown masked: the year only (with the masked ID number's last four digits, the
    whole date would give most of the number back)."""
    return f"{birth_date.year}年" if birth_date else None
