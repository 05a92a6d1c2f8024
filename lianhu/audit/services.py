"""Writing the audit log, always inside the caller's transaction."""

from __future__ import annotations

from django.db import models

from .models import AuditEntry
from .verbs import verbs


def _level_of(obj, level: str) -> int | None:
    """The id of the office or zone an object belongs to, by the path its Scope declares for that level."""
    scope = getattr(type(obj), "scope", None)
    path = scope.paths.get(level) if scope is not None else None
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


def office_of(obj) -> int | None:
    """The office an object belongs to, by the path its Scope declares for the office level."""
    return _level_of(obj, "office")


def zone_of(obj) -> int | None:
    """The zone an object belongs to (a zone itself, an office), by its Scope's path for the zone level."""
    return _level_of(obj, "zone")


def _actors_zone(actor) -> int | None:
    """The zone of the actor's first role (accounts' Membership.anchors(); audit cannot import accounts)."""
    membership = getattr(actor, "primary_membership", None) if actor is not None else None
    zones = membership.anchors().get("zone") if membership is not None else None
    return zones[0] if zones else None


def audit_log(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    field: str = "",
    ip: str | None = None,
    detail: dict | None = None,
    office_id: int | None = None,
    zone_id: int | None = None,
) -> AuditEntry:
    """Write one entry. It belongs to `office_id`, or to the office of `obj`; an entry of no office (a zone
    account's login) to `zone_id`, or the zone of `obj`, or the actor's: each is seen by the audit
    administrators of its office or zone (AuditEntry.scope). One of none (a failed login of a name no
    account has) is seen by every zone's."""
    verbs[action]  # an unregistered verb raises UnknownEntry
    if office_id is None and obj is not None:
        office_id = office_of(obj)
    if office_id is not None:
        zone_id = None  # the office says the zone
    elif zone_id is None:
        zone_id = (zone_of(obj) if obj is not None else None) or _actors_zone(actor)
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=str(actor) if actor is not None and actor.is_authenticated else "系统",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        office_id=office_id,
        zone_id=zone_id,
        field=field,
        ip=ip,
        detail=detail or {},
    )


# field → (label, the model attribute that must exist, how to read the clear value). The full birth date
# is one: with the masked ID number it gives most of the number back, so it is shown only here, audited.
REVEALABLE_FIELDS = {
    "id_number": ("身份证号", "id_number_cipher", lambda o: o.reveal_id_number()),
    "phone": ("联系电话", "phone_cipher", lambda o: o.reveal_phone()),
    "sensitive_tags": ("敏感标签", "sensitive_tags_cipher", lambda o: "、".join(o.reveal_sensitive_tags()) or "无"),
    "birth_date": ("出生日期", "birth_date", lambda o: f"{o.birth_date:%Y-%m-%d}" if o.birth_date else "未登记"),
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
