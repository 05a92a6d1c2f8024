"""No domain models here: the abstract base for people whose ID number and phone are sealed, and its indexes."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models

from . import bulk, crypto
from .masking import mask_id_number, mask_phone
from .search_keys import id_number_hash, phone_hash
from .validators import normalize_phone, parse_id_number


class SealedPersonalData(models.Model):
    """ID number, phone and birth date, encrypted at rest; the first two found by a keyed hash, all shown masked.

    The masked forms are stored in clear, so lists never decrypt; the full values are only shown
    through the audited reveal service. What is in clear must leave an ID number at least 1,000
    candidates (docs/security.md, "What stays in clear"): the masked number keeps its first 3 and last
    2 characters, and of the birth date only the year is kept in clear (`birth_year`); the date
    itself is sealed, read by the code through the `birth_date` property (the forms, the imports'
    comparisons, the party-age rules) and shown to a user only through a reveal.
    """

    id_number_cipher = models.TextField(blank=True, default="", editable=False)
    # Indexed by the concrete models with `LookupIndex` and `unique_id_number`: hashes are only ever
    # matched whole, never sorted or searched by prefix.
    id_number_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    id_number_masked = models.CharField("身份证号", max_length=20, blank=True, default="", editable=False)
    phone_cipher = models.TextField(blank=True, default="", editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True, default="", editable=False)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True, editable=False)
    birth_date_cipher = models.TextField(blank=True, default="", editable=False)

    # The name of the concrete model in the reveal URL (/org/reveal/<kind>/…): the reveal view finds
    # it among this class's subclasses, so an app adding a sealed model registers nothing else.
    reveal_kind = ""

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
        self.phone_hash = phone_hash(value)  # the module function: this class's field is only a name here
        self.phone_masked = mask_phone(value)

    @property
    def birth_date(self) -> dt.date | None:
        """The sealed birth date, opened (once per stored value)."""
        cached = self.__dict__.get("_birth_date")
        if cached is not None and cached[0] == self.birth_date_cipher:
            return cached[1]
        value = crypto.decrypt_date(self.birth_date_cipher)
        self.__dict__["_birth_date"] = (self.birth_date_cipher, value)
        return value

    @birth_date.setter
    def birth_date(self, value: dt.date | None) -> None:
        if value == self.birth_date:
            return  # an unchanged date keeps its token: nothing to write
        self.birth_date_cipher = crypto.encrypt(value.isoformat()) if value else ""
        self.birth_year = value.year if value else None
        self.__dict__["_birth_date"] = (self.birth_date_cipher, value)

    # The columns that hold each sealed field, for save(update_fields=...).
    sealed_columns = {
        "id_number": ["id_number_cipher", "id_number_hash", "id_number_masked"],
        "phone": ["phone_cipher", "phone_hash", "phone_masked"],
        "birth_date": ["birth_date_cipher", "birth_year"],
    }

    def set_sealed(self, *, id_number: str | None = None, phone: str | None = None) -> list[str]:
        """Set the ID number and phone that are given (blank clears, None keeps); return those that changed.

        The errors of both are raised together, by field.
        """
        errors, changed = {}, []
        for name, setter, raw in (("id_number", self.set_id_number, id_number), ("phone", self.set_phone, phone)):
            if raw is None:
                continue
            before = (getattr(self, name + "_hash"), getattr(self, name + "_masked"))
            try:
                setter(raw)
            except ValidationError as e:
                errors[name] = e.messages
                continue
            if (getattr(self, name + "_hash"), getattr(self, name + "_masked")) != before:
                changed.append(name)
        if errors:
            raise ValidationError(errors)
        return changed

    def reveal_id_number(self) -> str:
        return crypto.decrypt(self.id_number_cipher)

    def reveal_phone(self) -> str:
        return crypto.decrypt(self.phone_cipher)


class LookupIndex(models.Index):
    """An index of one column for equality look-ups only: on PostgreSQL a hash index of the
    non-blank values, elsewhere a plain btree.

    Keyed hashes are 64 random hex digits: every insert lands at a random place of a btree and
    compares long strings under the database's collation. A PostgreSQL hash index stores 4-byte
    codes instead and costs a fifth as much per inserted row (bench/bench_import.py, decisions.md).
    Blank values are left out of it: they would all share one bucket, whose chain every further
    blank row would walk. A look-up of a given hash (`= 'ab12…'`) can use the index as it is;
    one by a set of hashes goes through `with_id_hash_in`.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        (column,) = self.fields
        index = self.clone()
        index.condition = ~models.Q(**{column: ""})
        return models.Index.create_sql(index, model, schema_editor, using=" USING hash", **kwargs)


def with_id_hash_in(queryset, hashes):
    """The rows whose ID hash is one of `hashes`, found through `LookupIndex` (one parameter however
    many hashes, see `bulk.one_of`; the index leaves blank hashes out, so the filter says so too)."""
    return queryset.filter(bulk.one_of(queryset.model, "id_number_hash", hashes)).exclude(id_number_hash="")


def unique_id_number(name: str) -> models.UniqueConstraint:
    """One record per ID number (blank ones aside), enforced by the database.

    On PostgreSQL the index compares bytes (varchar_pattern_ops) instead of collating: uniqueness
    of a hash needs no collation, and each insert then costs about a third less.
    """
    return models.UniqueConstraint(fields=["id_number_hash"], condition=~models.Q(id_number_hash=""), name=name,
                                   opclasses=["varchar_pattern_ops"])


def rehash_legacy_id_numbers(model) -> int:
    """Give every stored legacy 15-digit ID number the hash of the 18-digit number that replaced it
    (`id_key`), for a data migration. A person stored under both numbers keeps both records, his
    15-digit one under its old hash, and is reported, for someone to merge by hand."""
    from django.db.models.functions import Length

    changed = 0
    for pk, cipher, old in model.objects.annotate(n=Length("id_number_masked")).filter(n=15).values_list(
            "pk", "id_number_cipher", "id_number_hash"):
        new = id_number_hash(crypto.decrypt(cipher))
        if new == old:
            continue
        if model.objects.filter(id_number_hash=new).exists():
            print(f"  {model._meta.label} {pk}: 15 位身份证号与另一条记录的 18 位号码是同一人，请人工合并")
            continue
        model.objects.filter(pk=pk).update(id_number_hash=new)
        changed += 1
    return changed


def seal_birth_dates(model, batch: int = 2000) -> int:
    """Move the clear `birth_date` of every row into `birth_date_cipher` and `birth_year`, and re-mask
    the masked ID number to its first 3 and last 2 characters, for a data migration (historical model:
    it still has the clear column, which the next operation drops)."""
    from .masking import remask_id_number

    seal, rows = None, []
    for row in model.objects.only("pk", "birth_date", "id_number_masked").iterator(chunk_size=batch):
        if row.birth_date is not None:
            seal = seal or crypto.encrypter()  # an empty table needs no key
            row.birth_date_cipher = seal(row.birth_date.isoformat())
            row.birth_year = row.birth_date.year
        row.id_number_masked = remask_id_number(row.id_number_masked)
        rows.append(row)
        if len(rows) == batch:
            model.objects.bulk_update(rows, ["birth_date_cipher", "birth_year", "id_number_masked"])
            rows = []
    model.objects.bulk_update(rows, ["birth_date_cipher", "birth_year", "id_number_masked"])
    return model.objects.count()


def rewrite_table(model):
    """A migration operation that rewrites a table after a clear column was dropped, so that the old
    values do not linger in the database file (剩余信息保护): PostgreSQL's DROP COLUMN only hides the
    column and an UPDATE leaves the old row versions behind until VACUUM FULL rewrites the table;
    SQLite keeps freed pages until VACUUM. Runs outside a transaction (the migration is atomic=False)."""
    from django.db import migrations

    def rewrite(apps, schema_editor):
        table = apps.get_model(*model.split("."))._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            if schema_editor.connection.vendor == "postgresql":
                cursor.execute(f'VACUUM FULL "{table}"')
            elif schema_editor.connection.vendor == "sqlite" and not schema_editor.connection.in_atomic_block:
                cursor.execute("VACUUM")

    return migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=True)
