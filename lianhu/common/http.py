"""HTTP details every app needs and no domain owns."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """The address the request came from; behind a reverse proxy, the client it reports.

    X-Forwarded-For is trusted only with LIANHU_TRUST_X_FORWARDED_FOR=1, since a client can forge it.
    """
    if request is None:
        return None
    if settings.LIANHU_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


# The largest primary key the database holds (BigAutoField: a signed 64-bit integer, PostgreSQL and
# SQLite alike). A larger number in a URL or a form is no object: SQLite raises OverflowError for it and
# PostgreSQL "bigint out of range", so it is answered 404 before any query.
MAX_PK = 2**63 - 1


def parse_pk(value) -> int | None:
    """An object's id from a URL, a query string or a form: a whole number from 1 to MAX_PK, else None.

    ASCII digits only: str.isdigit() also passes "²", which int() then refuses.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        pk = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PK)):
        pk = int(value)
    else:
        return None
    return pk if 1 <= pk <= MAX_PK else None
