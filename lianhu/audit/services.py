"""Writing the audit log, always inside the caller's transaction."""

from __future__ import annotations

from django.db import models

from .models import AuditEntry
from .verbs import verbs


def office_of(obj) -> int | None:
    """The office an object belongs to, by the path its Scope declares for the office level."""
    scope = getattr(type(obj), "scope", None)
    path = scope.paths.get("office") if scope is not None else None
    if path is None or callable(path):
        return None
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    target = obj
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, last + "_id", None)


def audit_log(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    field: str = "",
    ip: str | None = None,
    detail: dict | None = None,
    office_id: int | None = None,
) -> AuditEntry:
    verbs[action]  # an unregistered verb raises UnknownEntry
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


# field → (label, the model attribute that must exist, how to read the clear value). The full birth date
# is one: sealed at rest (only its year is in clear), it narrows the masked ID number down, so it is
# shown only here, audited.
REVEALABLE_FIELDS = {
    "id_number": ("身份证号", "id_number_cipher", lambda o: o.reveal_id_number()),
    "phone": ("联系电话", "phone_cipher", lambda o: o.reveal_phone()),
    "sensitive_tags": ("敏感标签", "sensitive_tags_cipher", lambda o: "、".join(o.reveal_sensitive_tags()) or "无"),
    "birth_date": ("出生日期", "birth_date_cipher", lambda o: f"{o.birth_date:%Y-%m-%d}" if o.birth_date else "未登记"),
}


def personal_data_reveal(*, user, obj: models.Model, field: str, ip: str | None = None) -> str:
    """Return the clear value of a masked field, if the user may reveal it for this object; audit it.

    The object must be found through the scoped queryset with the "reveal" action, so a user who
    can see a resident but not reveal his data gets a 404 here, exactly like one out of scope.
    """
    from django.core.exceptions import PermissionDenied
    from django.db import transaction

    if field not in REVEALABLE_FIELDS or not hasattr(obj, REVEALABLE_FIELDS[field][1]):
        raise PermissionDenied("unknown field")
    if not type(obj).objects.visible_to(user, "reveal").filter(pk=obj.pk).exists():
        raise PermissionDenied("reveal not allowed")
    label, _attribute, getter = REVEALABLE_FIELDS[field]
    with transaction.atomic():
        value = getter(obj)
        audit_log(actor=user, action="reveal", obj=obj, field=field, ip=ip, detail={"label": label})
    return value


def masked_search(raw: str) -> str:
    """What someone searched for, as the log keeps it: an ID number masked, and so is any run of 7 or
    more digits in other text (an ID number without its check digit, a phone number)."""
    from lianhu.common.masking import mask_digit_runs, mask_id_number
    from lianhu.common.validators import clean_text, looks_like_id_number

    if looks_like_id_number(raw):
        return mask_id_number(clean_text(raw).upper())
    return mask_digit_runs(clean_text(raw))
