"""No domain models here: the abstract base for people whose ID number and phone are sealed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from . import crypto
from .masking import mask_id_number, mask_phone
from .validators import clean_text, normalize_phone, parse_id_number


class SealedPersonalData(models.Model):
    """ID number and phone, encrypted at rest, found by a keyed hash, shown masked.

    The masked form is stored in clear, so lists never decrypt; the full value is only read through
    `reveal_*`, which callers reach through the audited reveal service.
    """

    id_number_cipher = models.TextField(blank=True, default="", editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    id_number_masked = models.CharField("身份证号", max_length=20, blank=True, default="", editable=False)
    phone_cipher = models.TextField(blank=True, default="", editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True, default="", editable=False)

    class Meta:
        abstract = True

    def set_id_number(self, raw: str) -> None:
        if not raw:
            self.id_number_cipher = self.id_number_hash = self.id_number_masked = ""
            return
        value = parse_id_number(raw).value
        self.id_number_cipher = crypto.encrypt(value)
        self.id_number_hash = id_number_hash(value)
        self.id_number_masked = mask_id_number(value)

    def set_phone(self, raw: str) -> None:
        if not raw:
            self.phone_cipher = self.phone_hash = self.phone_masked = ""
            return
        value = normalize_phone(raw)
        self.phone_cipher = crypto.encrypt(value)
        self.phone_hash = crypto.keyed_hash("phone:" + value)
        self.phone_masked = mask_phone(value)

    def reveal_id_number(self) -> str:
        return crypto.decrypt(self.id_number_cipher)

    def reveal_phone(self) -> str:
        return crypto.decrypt(self.phone_cipher)


def id_number_hash(raw: str) -> str:
    return crypto.keyed_hash("id:" + clean_text(raw).upper())


def phone_hash(raw: str) -> str:
    try:
        return crypto.keyed_hash("phone:" + normalize_phone(raw))
    except Exception:
        return ""


def refuse_duplicate_id_number(clashes, actor) -> None:
    """Say where a duplicate ID number is registered only if the user may see that record.

    Otherwise anyone could probe whether a number exists anywhere, and learn who holds it.
    """
    clash = clashes.first()
    if clash is None:
        return
    visible = clashes.model.objects.visible_to(actor).filter(pk=clash.pk).exists() if actor is not None else False
    if visible:
        where = clash.household.code if hasattr(clash, "household") else clash.branch.name
        raise ValidationError({"id_number": "该身份证号已登记：%s（%s）" % (where, clash.name)})
    raise ValidationError({"id_number": "该身份证号已在其他支部登记，请联系办事处核实"})
