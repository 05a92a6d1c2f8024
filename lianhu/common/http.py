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
