"""Writes on households and residents, audited in the same transaction."""

from __future__ import annotations

from collections.abc import Collection

from django.db import IntegrityError, transaction
from django.db.models.functions import Length

from lianhu.audit.services import audit_log, changes_detail, created_detail, snapshot
from lianhu.audit.lookups import refuse_duplicate_id_number
from lianhu.common.conflicts import conflict
from lianhu.common.pinyin import name_initials
from lianhu.common.search_keys import id_number_hash
from lianhu.common.versions import apply_changes, refuse_stale

from .hooks import move_refusals
from .rules import grid_in_branch
from .models import Household, Resident


def org_unit_save(*, form, actor, ip: str | None = None):
    """Save a validated branch or grid form and audit it in the same transaction."""
    creating = form.instance.pk is None
    with transaction.atomic():
        before = None if creating else snapshot(type(form.instance).objects.select_for_update().get(pk=form.instance.pk))
        unit = form.save()
        audit_log(actor=actor, action="create" if creating else "update", obj=unit, ip=ip,
                  office_id=unit.office_id if hasattr(unit, "office_id") else unit.branch.office_id,
                  detail=created_detail(unit) if creating else changes_detail(before, snapshot(unit)))
    return unit


def household_create(*, household: Household, actor, ip: str | None = None) -> Household:
    """Register a new household; a blank code is numbered on from the branch's last."""
    grid_in_branch(household.grid if household.grid_id else None, household.branch_id)
    if household.branch_id and not household.code:
        household.code = next_household_code(household.branch)
    household.full_clean()
    with transaction.atomic():
        household.save()
        audit_log(actor=actor, action="create", obj=household, ip=ip, detail=created_detail(household))
    return household


def household_update(*, household: Household, changes: dict, actor, ip: str | None = None,
                     expected_version: str | Collection[str] | None = None) -> Household:
    """Change the given fields of a household, and only those, on the row as it is now.

    The row is read again under its lock: what another writer saved meanwhile stays, and a writer who
    names the version he read (`expected_version`) is refused with StaleVersion once it has changed.
    Returns the household as stored.
    """
    with transaction.atomic():
        stored = Household.objects.select_for_update().get(pk=household.pk)
        refuse_stale(stored, expected_version)
        branch_before, before = stored.branch_id, snapshot(stored)
        if "code" in changes and not changes["code"]:
            changes = {**changes, "code": next_household_code(changes.get("branch") or stored.branch)}
        changed = apply_changes(stored, changes)
        if not changed:
            return stored
        grid_in_branch(stored.grid if stored.grid_id else None, stored.branch_id)
        if stored.branch_id != branch_before:
            refusal = move_refusals([stored.pk]).get(stored.pk)
            if refusal:
                raise conflict(refusal, "branch")
        stored.full_clean()
        stored.save(update_fields=[*changed, "updated_at"])
        audit_log(actor=actor, action="update", obj=stored, ip=ip,
                  detail=changes_detail(before, snapshot(stored, changed), changed))
    return stored


def next_household_code(branch) -> str:
    """Branch code + four-digit sequence, e.g. 4101731010010042."""
    last = (
        Household.objects.filter(branch=branch, code__startswith=branch.code)
        .order_by(Length("code").desc(), "-code").values_list("code", flat=True).first()
    )
    seq = int(last[len(branch.code):]) + 1 if last and last[len(branch.code):].isdigit() else 1
    return f"{branch.code}{seq:04d}"


def _set_sensitive_tags(resident: Resident, tags: list[str] | None) -> list[str]:
    """Set the sensitive tags if given (an empty list clears them); ["sensitive_tags"] if they changed."""
    if tags is None or sorted(set(tags)) == resident.reveal_sensitive_tags():
        return []
    resident.set_sensitive_tags(tags)
    return ["sensitive_tags"]


def _refuse_duplicate(resident: Resident, actor) -> None:
    """Under the row lock: a number taken meanwhile (the unique index would stop it too)."""
    if resident.id_number_hash:
        clash = Resident.objects.filter(id_number_hash=resident.id_number_hash).exclude(pk=resident.pk)
        refuse_duplicate_id_number(clash, actor)


def _refuse_taken_number(id_number: str | None, *, exclude_pk, actor, ip: str | None) -> None:
    """A number registered to another resident is refused, before any transaction: a number registered
    outside the user's scope is a look-up (audit.lookups), and its audit entry must outlive the refusal."""
    if not id_number:
        return
    id_hash = id_number_hash(id_number)
    clash = Resident.objects.filter(id_number_hash=id_hash).exclude(pk=exclude_pk)
    refuse_duplicate_id_number(clash, actor, raw=id_number, ip=ip)


def resident_create(*, resident: Resident, actor, ip: str | None = None, id_number: str | None = None,
                    phone: str | None = None, sensitive_tags: list[str] | None = None) -> Resident:
    """Register a new resident with his sealed ID number, phone and sensitive tags."""
    _refuse_taken_number(id_number, exclude_pk=None, actor=actor, ip=ip)
    resident.set_sealed(id_number=id_number, phone=phone)
    _set_sensitive_tags(resident, sensitive_tags)
    resident.name_initials = name_initials(resident.name)
    _refuse_duplicate(resident, actor)
    resident.full_clean(exclude=["household"] if resident.household_id else None, validate_constraints=False)
    try:
        with transaction.atomic():
            resident.save()
            audit_log(actor=actor, action="create", obj=resident, ip=ip, detail=created_detail(resident))
    except IntegrityError:
        # Two saves with the same ID number raced past the check above; the unique index stopped one.
        raise conflict("该身份证号已经登记", "id_number") from None
    return resident


def resident_update(*, resident: Resident, changes: dict, actor, ip: str | None = None,
                    expected_version: str | Collection[str] | None = None, id_number: str | None = None,
                    phone: str | None = None, sensitive_tags: list[str] | None = None) -> Resident:
    """Change the given fields of a resident, and only those, on the row as it is now (as household_update).

    Sealed fields change only when a value is given (blank clears). Returns the resident as stored.
    """
    _refuse_taken_number(id_number, exclude_pk=resident.pk, actor=actor, ip=ip)
    try:
        with transaction.atomic():
            stored = Resident.objects.select_for_update().get(pk=resident.pk)
            refuse_stale(stored, expected_version)
            before = snapshot(stored)
            changed = apply_changes(stored, changes) + stored.set_sealed(id_number=id_number, phone=phone)
            changed += _set_sensitive_tags(stored, sensitive_tags)
            if not changed:
                return stored
            stored.name_initials = name_initials(stored.name)
            _refuse_duplicate(stored, actor)
            stored.full_clean(exclude=["household"], validate_constraints=False)
            stored.save(update_fields=[*_columns(changed), "updated_at"])
            audit_log(actor=actor, action="update", obj=stored, ip=ip,
                      detail=changes_detail(before, snapshot(stored, changed), changed))
    except IntegrityError:
        raise conflict("该身份证号已经登记", "id_number") from None
    return stored


def _columns(changed: list[str]) -> list[str]:
    """The columns that hold the changed fields of a resident."""
    columns = {"name": ["name", "name_initials"], "sensitive_tags": ["sensitive_tags_cipher"],
               **Resident.sealed_columns}
    return [column for field in changed for column in columns.get(field, [field])]
