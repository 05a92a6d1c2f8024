"""Writing the audit log, always inside the caller's transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .models import Action, AuditEntry


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


def office_of(obj) -> int | None:
    for path in ("office_id", "branch.office_id", "household.branch.office_id", "member.branch.office_id"):
        target = obj
        try:
            for part in path.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        if target is not None:
            return target
    if obj.__class__.__name__ == "Office":
        return obj.pk
    return None


def audit_log(
    *,
    actor,
    action: Action | str,
    obj: models.Model | None = None,
    field: str = "",
    ip: str | None = None,
    detail: dict | None = None,
    office_id: int | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=str(actor) if actor is not None and actor.is_authenticated else "系统",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        office_id=office_id if office_id is not None else (office_of(obj) if obj is not None else None),
        field=field,
        ip=ip,
        detail=detail or {},
    )


REVEALABLE_FIELDS = {
    "id_number": ("身份证号", lambda o: o.reveal_id_number()),
    "phone": ("联系电话", lambda o: o.reveal_phone()),
    "sensitive_tags": ("敏感标签", lambda o: "、".join(o.reveal_sensitive_tags()) or "无"),
}


def personal_data_reveal(*, user, obj: models.Model, field: str, ip: str | None = None) -> str:
    """Return the clear value of a masked field, if the user may reveal it for this object; audit it.

    The object must be found through the scoped queryset with the "reveal" action, so a user who
    can see a resident but not reveal his data gets a 404 here, exactly like one out of scope.
    """
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    if field not in REVEALABLE_FIELDS or not hasattr(obj, field + "_cipher"):
        raise PermissionDenied("unknown field")
    if not type(obj).objects.visible_to(user, "reveal").filter(pk=obj.pk).exists():
        raise PermissionDenied("reveal not allowed")
    label, getter = REVEALABLE_FIELDS[field]
    with transaction.atomic():
        value = getter(obj)
        audit_log(actor=user, action=Action.REVEAL, obj=obj, field=field, ip=ip, detail={"label": label})
    return value


def masked_search(raw: str) -> str:
    """What someone searched for, as the log keeps it: an ID number masked, and so is any run of 7 or
    more digits in other text (an ID number without its check digit, a phone number)."""
    from lianhu.common.masking import mask_digit_runs, mask_id_number
    from lianhu.common.validators import clean_text, looks_like_id_number

    if looks_like_id_number(raw):
        return mask_id_number(clean_text(raw).upper())
    return mask_digit_runs(clean_text(raw))


def audit_id_lookup(request, raw: str) -> None:
    """A search by ID number is a look-up of personal data: record who looked, never the number itself."""
    membership = request.user.primary_membership
    office_id = membership.anchors().get("office", [None])[0] if membership else None
    audit_log(actor=request.user, action=Action.LOOKUP, ip=client_ip(request), office_id=office_id,
              detail={"id_number": masked_search(raw)})
