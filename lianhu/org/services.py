"""Writes on households and residents, audited in the same transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length

from lianhu.audit.services import audit_log
from lianhu.audit.lookups import refuse_duplicate_id_number
from lianhu.common.pinyin import name_initials

from .hooks import move_refusals
from .rules import grid_in_branch
from .models import Household, Resident


def org_unit_save(*, form, actor, ip: str | None = None):
    """Save a validated branch or grid form and audit it in the same transaction."""
    creating = form.instance.pk is None
    with transaction.atomic():
        unit = form.save()
        audit_log(actor=actor, action="create" if creating else "update", obj=unit, ip=ip,
                  office_id=unit.office_id if hasattr(unit, "office_id") else unit.branch.office_id)
    return unit


def household_save(*, household: Household, actor, ip: str | None = None) -> Household:
    creating = household.pk is None
    grid_in_branch(household.grid if household.grid_id else None, household.branch_id)
    if household.branch_id and not household.code:
        household.code = next_household_code(household.branch)
    household.full_clean()
    with transaction.atomic():
        if not creating:
            stored = Household.objects.select_for_update().get(pk=household.pk)
            if stored.branch_id != household.branch_id:
                refusal = move_refusals([household.pk]).get(household.pk)
                if refusal:
                    raise ValidationError({"branch": refusal})
        household.save()
        audit_log(actor=actor, action="create" if creating else "update", obj=household, ip=ip)
    return household


def next_household_code(branch) -> str:
    """Branch code + four-digit sequence, e.g. 4101731010010042."""
    last = (
        Household.objects.filter(branch=branch, code__startswith=branch.code)
        .order_by(Length("code").desc(), "-code").values_list("code", flat=True).first()
    )
    seq = int(last[len(branch.code):]) + 1 if last and last[len(branch.code):].isdigit() else 1
    return f"{branch.code}{seq:04d}"


def resident_save(*, resident: Resident, actor, ip: str | None = None, id_number: str | None = None,
                  phone: str | None = None, sensitive_tags: list[str] | None = None) -> Resident:
    """Create or update a resident; sealed fields change only when a value is given."""
    creating = resident.pk is None
    errors = {}
    if id_number is not None:
        try:
            resident.set_id_number(id_number)
        except ValidationError as e:
            errors["id_number"] = e.messages
    if phone is not None:
        try:
            resident.set_phone(phone)
        except ValidationError as e:
            errors["phone"] = e.messages
    if errors:
        raise ValidationError(errors)
    if sensitive_tags is not None:
        resident.set_sensitive_tags(sensitive_tags)
    resident.name_initials = name_initials(resident.name)
    if resident.id_number_hash:
        clash = Resident.objects.filter(id_number_hash=resident.id_number_hash).exclude(pk=resident.pk)
        refuse_duplicate_id_number(clash, actor, raw=id_number or "", ip=ip)
    resident.full_clean(exclude=["household"] if resident.household_id else None, validate_constraints=False)
    try:
        with transaction.atomic():
            resident.save()
            audit_log(actor=actor, action="create" if creating else "update", obj=resident, ip=ip)
    except IntegrityError:
        # Two saves with the same ID number raced past the check above; the unique index stopped one.
        raise ValidationError({"id_number": "该身份证号已经登记"}) from None
    return resident

