"""Writes on households and residents, audited in the same transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from lianhu.audit.models import Action
from lianhu.audit.services import audit_log
from lianhu.common.pinyin import name_initials

from .models import Household, Resident


def household_save(*, household: Household, actor, ip: str | None = None) -> Household:
    creating = household.pk is None
    if household.grid_id and household.branch_id and household.grid.branch_id != household.branch_id:
        raise ValidationError({"grid": "网格不属于该户所在的支部"})
    if household.branch_id and not household.code:
        household.code = next_household_code(household.branch)
    household.full_clean()
    with transaction.atomic():
        household.save()
        audit_log(actor=actor, action=Action.CREATE if creating else Action.UPDATE, obj=household, ip=ip)
    return household


def next_household_code(branch) -> str:
    """Branch code + four-digit sequence, e.g. 4101731010010042."""
    last = (
        Household.objects.filter(branch=branch, code__startswith=branch.code)
        .order_by("-code").values_list("code", flat=True).first()
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
        clash = Resident.objects.filter(id_number_hash=resident.id_number_hash).exclude(pk=resident.pk).first()
        if clash is not None:
            raise ValidationError({"id_number": "该身份证号已登记在户 %s（%s）" % (clash.household.code, clash.name)})
    resident.full_clean(exclude=["household"] if resident.household_id else None)
    with transaction.atomic():
        resident.save()
        audit_log(actor=actor, action=Action.CREATE if creating else Action.UPDATE, obj=resident, ip=ip)
    return resident
