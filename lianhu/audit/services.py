"""Writing the audit log, always inside the caller's transaction."""

from __future__ import annotations

from django.db import models

from lianhu.common.masking import mask_name

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


# What an audit entry keeps of a sealed field: its masked form, never the value (the log is read by
# the audit administrator, who may not reveal). field → (label, the column it is read from, how).
SEALED_SHOWN = {
    "id_number": ("身份证号", "id_number_masked", lambda o: o.id_number_masked),
    "phone": ("联系电话", "phone_masked", lambda o: o.phone_masked),
    "birth_date": ("出生日期", "birth_year", lambda o: f"{o.birth_year}年" if o.birth_year else ""),
    "sensitive_tags": ("敏感标签", "sensitive_tags_cipher", lambda o: "***" if o.sensitive_tags_cipher else ""),
}
# Columns that are a sealed field's parts, or bookkeeping: never in a snapshot.
_UNSHOWN = ("_cipher", "_hash", "_masked", "name_initials", "birth_year")
_BOOKKEEPING = {"id", "updated_at", "created_at"}


def snapshot(obj: models.Model, fields=None) -> dict[str, tuple[str, str]]:
    """The values of `fields` (all the object's own fields by default) as the audit log keeps them:
    field → (label, value as shown), personal data masked. For the before and after of a write."""
    if fields is None:
        fields = [f.name for f in obj._meta.concrete_fields
                  if f.name not in _BOOKKEEPING and not any(part in f.attname for part in _UNSHOWN)]
        fields += [name for name, (_label, column, _read) in SEALED_SHOWN.items() if hasattr(obj, column)]
    shown = {}
    for name in fields:
        if name in SEALED_SHOWN:
            label, _column, read = SEALED_SHOWN[name]
            shown[name] = (label, read(obj))
            continue
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if name == "name" and hasattr(obj, "id_number_masked"):  # a person: shown as the log page shows him (单**)
            value = mask_name(value)
        elif field.choices:
            value = getattr(obj, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, (list, tuple)):
            value = "、".join(map(str, value))
        shown[name] = (str(field.verbose_name), "" if value is None else str(value)[:200])
    return shown


def changes_detail(before: dict, after: dict, changed=None) -> dict:
    """An update's detail: {"fields": [...], "changes": [[label, before, after], ...]} of the fields
    that changed (`changed`, or those whose shown value differs)."""
    names = [n for n in (changed if changed is not None else after) if n in after
             and (changed is not None or before.get(n, ("", ""))[1] != after[n][1])]
    return {"fields": list(names),
            "changes": [[after[n][0], before.get(n, (None, ""))[1], after[n][1]] for n in names]}


def created_detail(obj: models.Model) -> dict:
    """A creation's detail: every field's value as the log keeps it (the "after" of the write)."""
    return {"values": [[label, value] for label, value in snapshot(obj).values() if value]}


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
