"""The households file (户籍表): one row per resident, rows with the same 户编号 form one household.

Rows bind with the rules the forms and services use: the same validators (parse_id_number,
normalize_phone, clean_text), the model's choices, lengths and constraints, "the grid belongs to
the branch" (HouseholdForm), one resident per ID number (resident_create and resident_update,
refuse_duplicate_id_number), "a linked household stays in its branch" (household_update), and scope through
`visible_to(user, "edit_roster")`. It is done in bulk rather than one form per row, so that 100k
rows validate in seconds; a blank cell keeps what is stored, as a blank sealed field does in the form.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from django.db.models import TextField
from django.db.models.functions import Cast, Length
from django.utils import timezone

from lianhu.audit.lookups import NOT_HERE, ImportLookups
from lianhu.common import bulk, crypto, xlsx
from lianhu.common.masking import mask_birth_year, mask_id_number, mask_name, mask_phone
from lianhu.common.models import with_id_hash_in
from lianhu.common.pinyin import name_initials
from lianhu.common.search_keys import id_hasher, phone_hasher
from lianhu.common.validators import IdNumber
from lianhu.common.xlsx import CellError, Column, Outcome, Table

from .models import Branch, CareTag, Gender, Grid, Household, Relation, Resident, SensitiveTag
from .filters import HouseholdFilter
from .hooks import move_refusals
from .rules import grid_named, roster_branches
from .services import next_household_code

GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "男性": Gender.MALE, "女性": Gender.FEMALE,
           "M": Gender.MALE, "F": Gender.FEMALE}
RELATIONS = {
    **{r.label: r.value for r in Relation},
    "本人": Relation.HEAD, "户主本人": Relation.HEAD,
    "妻": Relation.SPOUSE, "妻子": Relation.SPOUSE, "夫": Relation.SPOUSE, "丈夫": Relation.SPOUSE,
    "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD, "女儿": Relation.CHILD,
    "长子": Relation.CHILD, "次子": Relation.CHILD, "长女": Relation.CHILD, "次女": Relation.CHILD,
    "父": Relation.PARENT, "母": Relation.PARENT, "父亲": Relation.PARENT, "母亲": Relation.PARENT,
    "孙子": Relation.GRANDCHILD, "孙女": Relation.GRANDCHILD, "外孙": Relation.GRANDCHILD,
    "外孙女": Relation.GRANDCHILD,
}
GENDER_LABELS = dict(Gender.choices)
RELATION_LABELS = dict(Relation.choices)
CARE_TAGS = tuple(CareTag.values)
SENSITIVE_TAGS = tuple(SensitiveTag.values)
MAX_FLOORS = 60  # the household_floors_sane constraint

HOUSEHOLD_KEYS = ("branch", "grid", "address", "villager_group", "self_built", "floors", "built_year", "lng", "lat",
                  "notes")
RESIDENT_KEYS = ("name", "relation", "gender", "birth_date", "id_number", "phone", "care_tags", "sensitive_tags")
HOUSEHOLD_FIELDS = ("branch_id", "grid_id", "address", "villager_group", "self_built", "floors", "built_year", "lng",
                    "lat", "notes")
# What a preview compares, field by field, and the column each field is shown as.
HOUSEHOLD_CHANGES = {f: f.removesuffix("_id") for f in HOUSEHOLD_FIELDS}
RESIDENT_CHANGES = {"name": "name", "relation": "relation", "gender": "gender", "birth_date": "birth_date",
                    "id_number_hash": "id_number", "phone_hash": "phone", "care_tags": "care_tags",
                    "sensitive": "sensitive_tags"}
RESIDENT_FIELDS = ("name", "name_initials", "gender", "birth_year", "birth_date_cipher", "relation", "care_tags", "sensitive_tags_cipher",
                   "id_number_cipher", "id_number_hash", "id_number_masked", "phone_cipher", "phone_hash",
                   "phone_masked")
NOTHING_SEALED = ("", "", "", "", "")  # id_number_cipher, id_number_masked, phone_cipher, phone_masked, birth_date_cipher
NEW_HOUSEHOLD = {"id": None, "branch_id": None, "grid_id": None, "address": "", "villager_group": "", "self_built": False,
                 "floors": None, "built_year": None, "lng": None, "lat": None, "notes": ""}


@lru_cache(maxsize=65536)
def initials(name: str) -> str:
    return name_initials(name)  # names repeat down a village's sheet


def ordered(values, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Tags in the order of their choices (unknown ones last), so equal sets compare equal."""
    values = list(values or ())
    return tuple(t for t in allowed if t in values) + tuple(sorted(t for t in values if t not in allowed))


class ResidentState(NamedTuple):
    """A resident as the comparison needs him: stored, or as the file will leave him."""

    id: int | None
    name: str
    gender: str
    birth_date: object
    relation: str
    care_tags: tuple
    id_number_hash: str
    phone_hash: str
    sensitive: object  # the stored cipher text, or the tags (a tuple) when the file changes them


class RowRecord(NamedTuple):
    """One row of the file, every cell normalised."""

    row: int
    problems: list  # (column key, message, level)
    bad: bool
    code: str | None  # None: the code itself is unusable
    relation: str
    household: tuple | None  # HOUSEHOLD_KEYS order, None for a blank cell; None when all are blank
    name: str | None  # None: the row has no resident columns
    gender: str
    birth_date: object
    care_tags: tuple | None
    sensitive_tags: tuple | None
    id: IdNumber | None
    id_hash: str
    phone: str
    phone_hash: str


RESIDENT_COLUMNS = ("name", "gender", "birth_date", "care_tags", "sensitive_tags")  # besides ID number and phone
READ_KEYS = ("code", "relation", *HOUSEHOLD_KEYS, *RESIDENT_COLUMNS, "id_number", "phone")
NO_RESIDENT = (None, "", None, None, None, None, "", "", "")  # RowRecord from `name` on: no resident columns


def read_rows(table: Table, progress=None) -> list[RowRecord]:
    """Every row of the file normalised, without looking anything up.

    Written for speed (100k rows in a big file): the sheet is read as columns and each distinct
    value of a column is normalised once (`xlsx.normalise_column`): branches, grids, dates and tags
    repeat, and a household's cells repeat on each of its rows. Refused cells are collected, in
    column order, only for the rows that have one.
    """
    numbers, columns = xlsx.read_columns(table, READ_KEYS, progress)
    raw = dict(zip(READ_KEYS, columns))
    rules = _cell_rules()
    column: dict[str, list] = {}
    errors: dict[str, dict[int, CellError]] = {}
    for key in ("code", "relation", *RESIDENT_COLUMNS, "id_number", "phone"):
        column[key], errors[key] = xlsx.normalise_column(raw[key], rules[key])
    households, household_problems = _household_cells([raw[k] for k in HOUSEHOLD_KEYS], rules)

    # Rows without any resident cell describe only their household.
    blank = ("", None)
    no_resident = {i for i, v in enumerate(raw["name"]) if v in blank}
    if no_resident:
        others = [raw[k] for k in RESIDENT_KEYS if k != "name"]
        no_resident = {i for i in no_resident if all(c[i] in blank for c in others)}
    flagged = set().union(household_problems, *errors.values())
    code_errors = errors.pop("code")
    hash_id, hash_phone = id_hasher(), phone_hasher()
    records = []
    for i, (n, code, relation, household, name, gender, birth, care, sensitive, id_value,
            phone) in enumerate(zip(numbers, column["code"], column["relation"], households, column["name"],
                                    column["gender"], column["birth_date"], column["care_tags"],
                                    column["sensitive_tags"], column["id_number"], column["phone"])):
        if i in code_errors:
            records.append(RowRecord(n, [("code", str(code_errors[i]), "error")], True, None, "", None,
                                     *NO_RESIDENT))
            continue
        problems = []
        if i in flagged:
            problems.extend(household_problems.get(i, ()))
            if i in errors["relation"]:
                problems.append(("relation", str(errors["relation"][i]), "error"))
        if i in no_resident:
            records.append(RowRecord(n, problems, any(p[2] == "error" for p in problems), code or "",
                                     relation or "", household, *NO_RESIDENT))
            continue
        if i in flagged:
            problems.extend((key, str(errors[key][i]), "error") for key in RESIDENT_COLUMNS if i in errors[key])
        if not name:
            problems.append(("name", "姓名不能为空", "error"))
        if i in flagged:
            problems.extend((key, str(errors[key][i]), "error") for key in ("id_number", "phone") if i in errors[key])
        if birth.__class__ is xlsx.PartialDate:
            birth = _complete_birth(birth, id_value, problems, id_refused=i in errors["id_number"])
        id_hash = ""
        if id_value is not None:
            # parse_id_number's value is already clean and upper-case: id_number_hash would clean it again.
            id_hash = hash_id(id_value.value)
            if id_value.warning:
                problems.append(("id_number", id_value.warning, "warning"))
            if id_value.gender and gender and gender != id_value.gender:
                problems.append(("gender", f"性别“{GENDER_LABELS[gender]}”与身份证号不一致，请核对", "warning"))
            if id_value.birth_date and birth and birth != id_value.birth_date:
                problems.append(("birth_date", "出生日期与身份证号中的出生日期不一致，请核对",
                                 "warning"))
        bad = any(p[2] == "error" for p in problems) if problems else False
        records.append(RowRecord(n, problems, bad, code or "", relation or "", household, name or "", gender or "",
                                 birth, care, sensitive, id_value, id_hash, phone or "",
                                 hash_phone(phone)))
    return records


def _complete_birth(partial: xlsx.PartialDate, id_value: IdNumber | None, problems: list, *, id_refused: bool):
    """The birth date of a row whose 出生年月 gives no day: the one in its ID number. Without one, the
    partial date itself, for the registered resident's date to complete (`_merge`)."""
    born = id_value.birth_date if id_value is not None else None
    if born is None:
        return None if id_refused else partial  # a refused ID number's own error stands for both
    if not partial.fits(born):
        problems.append(("birth_date", f"出生年月“{partial.text}”与身份证号中的出生日期不一致，"
                                       "已按身份证号登记，请核对", "warning"))
    return born


def _split(outcome: Outcome, entity: str, drafts,
           differs: Callable = lambda d: d.final != d.stored) -> tuple[list, list]:
    """The drafts that are new and those whose final state `differs` from the stored one; all counted."""
    new, changed, unchanged = [], [], 0
    for d in drafts:
        if d.stored is None:
            new.append(d)
        elif differs(d):
            changed.append(d)
        else:
            unchanged += 1
    if new or changed or unchanged:
        outcome.count(entity, "created", len(new))
        outcome.count(entity, "updated", len(changed))
        outcome.count(entity, "unchanged", unchanged)
    return new, changed


def _household_cells(cells: list[tuple], rules: dict) -> tuple[list, dict[int, list]]:
    """Per row, the household cells normalised in HOUSEHOLD_KEYS order (None when all are blank); problems by row."""
    checked = [xlsx.normalise_column(c, rules[k]) for k, c in zip(HOUSEHOLD_KEYS, cells)]
    blank = (None,) * len(HOUSEHOLD_KEYS)
    households = [None if values == blank else values for values in zip(*(values for values, _e in checked))]
    problems: dict[int, list] = defaultdict(list)
    for key, (_values, refused) in zip(HOUSEHOLD_KEYS, checked):
        for i, e in refused.items():
            problems[i].append((key, str(e), "error"))
    return households, problems


def _cell_rules() -> dict[str, Callable]:
    """How each column's non-blank cells are normalised; "" (nothing left once cleaned) reads as blank."""
    today = timezone.localdate()  # once per file, not once per birth date

    def born(value):
        partial = xlsx.partial_date(value)  # 出生年月: completed from the ID number, row by row (read_rows)
        if partial is not None:
            if partial.year > today.year:
                raise CellError("出生日期不能晚于今天")
            return partial
        born = xlsx.date(value)
        if born is not None and born > today:
            raise CellError("出生日期不能晚于今天")
        return born

    def limited(model, name: str, normalise: Callable) -> Callable:
        limit = model._meta.get_field(name).max_length

        def check(value):
            value = normalise(value)
            if len(value) > limit:
                raise CellError(f"不能超过 {limit} 个字")
            return value or None

        return check

    def tags(allowed: tuple[str, ...], what: str, elsewhere: dict[str, str]) -> Callable:
        def check(value):
            found = xlsx.tags(value, allowed, what, elsewhere)
            return None if found is None else tuple(found)

        return check

    return {
        "code": lambda v: xlsx.code(v, "户编号"),
        "relation": lambda v: xlsx.choice(v, RELATIONS, "与户主关系"),
        "branch": lambda v: xlsx.compact(v) or None,
        "grid": lambda v: xlsx.compact(v) or None,
        "address": limited(Household, "address", xlsx.text),
        "villager_group": limited(Household, "villager_group", xlsx.text),
        "self_built": xlsx.boolean,
        "floors": xlsx.field_rules(Household, "floors", lambda v: xlsx.integer(v, units="层")),
        "built_year": xlsx.field_rules(Household, "built_year", lambda v: xlsx.integer(v, units="年")),
        "lng": xlsx.field_rules(Household, "lng", lambda v: xlsx.decimal(v)),
        "lat": xlsx.field_rules(Household, "lat", lambda v: xlsx.decimal(v)),
        "notes": lambda v: xlsx.text(v) or None,
        "name": limited(Resident, "name", xlsx.person_name),
        "gender": lambda v: xlsx.choice(v, GENDERS, "性别") or None,
        "birth_date": born,
        "care_tags": tags(CARE_TAGS, "关爱标签", dict.fromkeys(SENSITIVE_TAGS, "敏感标签")),
        "sensitive_tags": tags(SENSITIVE_TAGS, "敏感标签", dict.fromkeys(CARE_TAGS, "关爱标签")),
        "id_number": lambda v: xlsx.id_number(v, today),
        "phone": xlsx.phone,
    }


@dataclass(slots=True, eq=False)
class HouseholdDraft:
    row: int
    code: str  # "" for a new household
    values: dict = field(default_factory=dict)  # normalised, non-blank values from the file
    rows: dict = field(default_factory=dict)  # the row each value came from
    merged: tuple | None = None  # the household cells merged last, to skip the rows that repeat them
    # Its first resident's row (the head, who starts a new household). Not the list of its residents:
    # they point at their household, and without that cycle the drafts are freed by reference counting
    # as soon as the plan is dropped, instead of by a collection over every object of the import.
    head: RowRecord | None = None
    stored: dict | None = None
    final: dict | None = None  # what the household will be
    bad: bool = False
    heads: int = 0  # residents the file makes 户主
    adopted: bool = False  # no code in the file: found by its head (`_adopt`)
    conflicts: dict | None = None  # key -> {value: first row} when its rows disagree


@dataclass(slots=True, eq=False)
class ResidentDraft:
    record: RowRecord
    household: HouseholdDraft
    stored: ResidentState | None = None
    final: ResidentState | None = None
    upgrade: bool = False  # registered with his 15-digit ID number, the file gives the 18-digit one


@dataclass
class Plan:
    new_households: list = field(default_factory=list)  # HouseholdDraft
    changed_households: list = field(default_factory=list)
    new_residents: list = field(default_factory=list)  # ResidentDraft
    changed_residents: list = field(default_factory=list)


class HouseholdSheet(xlsx.RosterSheet):
    kind = "households"
    sheet_name = "户籍"
    telling = ("relation", "self_built", "floors", "built_year", "care_tags", "sensitive_tags")
    label = "户籍（户与居民）"
    short_label = "户籍"
    action = "edit_roster"
    filterset = HouseholdFilter  # exports the household list as filtered
    columns = (
        Column("code", "户编号", ("户号", "户籍编号"), width=19, text_format=True,
               note="已登记的户填写系统中的户编号；新户留空，由系统编号"),
        Column("branch", "支部", ("党支部", "村（社区）", "村社区", "所属支部"), width=12, options="branch",
               note="新户必填；填支部名称或 12 位区划代码"),
        Column("grid", "网格", ("所在网格", "网格名称"), width=12, options="grid", note="新户必填；填本支部的网格名称或 15 位网格编码"),
        Column("address", "住址", ("地址", "家庭住址", "现住址"), width=26, note="新户必填"),
        Column("villager_group", "村民组", ("村民组/楼栋", "村民小组", "组别", "楼栋")),
        Column("self_built", "自建房", ("是否自建房",), width=8, options="yes_no", note="是/否"),
        Column("floors", "层数", ("房屋层数",), width=6, note=f"整数，最多 {MAX_FLOORS}"),
        Column("built_year", "建成年份", ("建房年份", "建造年份"), width=9),
        Column("name", "姓名", ("居民姓名",), required=True, width=9),
        Column("relation", "与户主关系", ("关系", "与户主的关系"), width=10, options="relation",
               note="新户的第一行必须是户主；同户其他人紧随其后"),
        Column("gender", "性别", (), width=6, options="gender", note="留空时按身份证号确定"),
        Column("birth_date", "出生日期", ("出生年月日", "出生年月", "生日"), width=12,
               note="1991-01-01、1991/1/1、1991.1.1、1991年1月1日均可；留空或只写年月（1991.01）时按身份证号确定"),
        Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "身份证"), width=21, text_format=True,
               note="18 位（末位 X 大小写均可）或旧版 15 位；请保持“文本”格式，数字格式会丢失后几位"),
        Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式"), width=14, text_format=True),
        Column("care_tags", "关爱标签", ("特殊群体",), width=14, options="care_tags", free_options=True,
               note="多个用顿号分隔；填“无”清除"),
        Column("sensitive_tags", "敏感标签", (), width=14, options="sensitive_tags", free_options=True, sensitive=True,
               note="残疾人、低保等敏感信息，加密保存；多个用顿号分隔；填“无”清除"),
        Column("lng", "经度", (), width=11),
        Column("lat", "纬度", (), width=10),
        Column("notes", "备注", ("户备注",), width=20),
    )
    required_for_new = ("branch", "grid", "address", "name", "relation")
    instructions = (
        "一行一位居民；户编号相同的行是同一户。户的信息（支部、网格、住址等）填在该户任意一行即可，各行填写时须一致。",
        "新户：户编号留空，第一行填户主（与户主关系填“户主”），同户其他人紧随其后，由系统编号。",
        "按身份证号识别居民、按户编号识别户（没有户编号的，按户中已登记居民的身份证号找到该户）："
        "同一文件导入两次，第二次不会有任何改动。",
        "留空的单元格不会清除已有信息；关爱标签、敏感标签填“无”表示清除。导入只新增和更新，不删除。",
        "文件中任何一行有错误时，整个文件都不会导入；请下载问题清单，按“错误说明”列修改后重新上传。",
        "身份证号、联系电话列请保持“文本”格式：设为数字的单元格只保留 15 位，身份证号的后几位会丢失。",
    )

    # -----------------------------------------------------------------------------------------
    # Look-ups in scope

    def branches(self):
        """Branches the user may edit the roster of, or of one of their grids (a grid worker's branch)."""
        if self.user is None:
            return self.scoped(Branch, "office")
        branches = roster_branches(self.user, self.action)
        return branches if self.office is None else branches.filter(office=self.office)

    def grids(self):
        return self.scoped(Grid, "branch__office")

    def households(self):
        return self.scoped(Household, "branch__office")

    def options(self) -> dict[str, list[str]]:
        return {
            "branch": [b.name for b in self.branches().order_by("code")],
            "grid": list(dict.fromkeys(self.grids().order_by("code").values_list("name", flat=True))),
            "yes_no": ["是", "否"],
            "relation": list(Relation.labels),
            "gender": list(Gender.labels),
            "care_tags": list(CARE_TAGS),
            "sensitive_tags": list(SENSITIVE_TAGS),
        }

    # -----------------------------------------------------------------------------------------
    # Validation

    def validate(self, table: Table, progress=None, *, for_update: bool = False) -> Outcome:
        outcome = Outcome(kind=self.kind, rows=len(table.rows))
        problems = outcome.problems

        def problem(row: int, key: str, message: str, level: str = "error") -> None:
            problems.append(table.problem(row, key, message, level))

        records = read_rows(table, progress)
        outcome.rows = len(records)
        households, residents = self._group(records, problem)
        del records
        if progress:
            progress(0, 1, "核对已有数据")
        self._bind_households(households, residents, problem, for_update)
        self._bind_residents(residents, problem)
        plan = Plan()
        plan.new_households, plan.changed_households = _split(outcome, "户", (h for h in households if not h.bad))
        plan.new_residents, plan.changed_residents = _split(
            outcome, "居民", (r for r in residents if r.final is not None and not r.household.bad),
            lambda r: r.final != r.stored or r.upgrade)  # an upgraded ID number hashes as before (`id_key`)
        outcome.list_updates(
            (xlsx.Update(h.row, f"户 {h.code}", self.changed_columns(h.stored, h.final, HOUSEHOLD_CHANGES))
             for h in plan.changed_households),
            (xlsx.Update(r.record.row, f"居民 {r.final.name}", self.changed_columns(
                # an upgraded ID number hashes as before (`id_key`), and is a change all the same
                r.stored._asdict() | ({"id_number_hash": None} if r.upgrade else {}), r.final._asdict(),
                RESIDENT_CHANGES)) for r in plan.changed_residents))
        problems.sort(key=lambda p: (p.row, p.letter))
        outcome.plan = plan
        return outcome

    def _group(self, records: list[RowRecord], problem) -> tuple[list[HouseholdDraft], list[ResidentDraft]]:
        """Rows into households, in the order of the file: a code names one, a 户主 row without a code starts one."""
        households: list[HouseholdDraft] = []
        by_code: dict[str, HouseholdDraft] = {}
        residents: list[ResidentDraft] = []
        current_new: HouseholdDraft | None = None  # the new household the previous row belonged to
        seen_ids: dict[str, int] = {}
        for rec in records:
            n = rec.row
            for key, message, level in rec.problems:
                problem(n, key, message, level)
            if rec.code is None:
                current_new = None
                continue
            if rec.code:
                household = by_code.get(rec.code)
                if household is None:
                    household = by_code[rec.code] = HouseholdDraft(row=n, code=rec.code)
                    households.append(household)
                current_new = None
            elif rec.relation == Relation.HEAD or rec.name is None:
                household = current_new = HouseholdDraft(row=n, code="")
                households.append(household)
            elif current_new is not None:
                household = current_new
            else:
                problem(n, "code", "户编号为空：新户的第一行应是户主（与户主关系填“户主”），同户其他人紧随其后；"
                                   "已登记的户请填写户编号")
                continue
            if rec.bad:
                household.bad = True
            cells = rec.household
            if cells is not None and cells != household.merged:
                household.merged = cells
                # Each row may repeat the household's cells or leave them blank, but not contradict them.
                for key, value in zip(HOUSEHOLD_KEYS, cells):
                    if value is None:
                        continue
                    known = household.values.get(key)
                    if known is None:
                        household.values[key], household.rows[key] = value, n
                    elif known != value:  # settled against the stored household (`_settle`)
                        if household.conflicts is None:
                            household.conflicts = {}
                        household.conflicts.setdefault(key, {known: household.rows[key]}).setdefault(value, n)
            if rec.name is None or rec.bad:
                continue
            if rec.id_hash:
                first = seen_ids.setdefault(rec.id_hash, n)
                if first != n:
                    problem(n, "id_number", f"与第 {first} 行是同一个人（身份证号相同）：同一个人只能出现一次")
                    household.bad = True
                    continue
            if household.head is None:
                household.head = rec
            residents.append(ResidentDraft(record=rec, household=household))
        return households, residents

    def _bind_households(self, households: list[HouseholdDraft], residents: list[ResidentDraft], problem,
                         for_update: bool) -> None:
        """Find each household, resolve its branch and grid in scope, and say what it will become."""
        branches = list(self.branches())
        if for_update:
            # Serialise code assignment with any other import into the same branches.
            list(Branch.objects.select_for_update(of=("self",)).filter(pk__in=[b.pk for b in branches])
                 .values_list("pk"))
        branch_by = {b.name: b for b in branches} | {b.code: b for b in branches}
        grids_by_branch: dict[int, dict[str, Grid]] = defaultdict(dict)
        grid_by_id = {}
        for g in self.grids():
            grids_by_branch[g.branch_id][g.name] = grids_by_branch[g.branch_id][g.code] = g
            grid_by_id[g.pk] = g
        self._adopt(households, residents, branch_by)

        codes = [h.code for h in households if h.code]
        stored = {}
        if codes:
            for row in self.households().filter(bulk.one_of(Household, "code", codes)).values(
                    "id", "code", *HOUSEHOLD_FIELDS):
                stored[row.pop("code")] = row
        self._code_by_id = {row["id"]: code for code, row in stored.items()}
        moved = []
        for h in households:
            # A household with a bad row is still checked, so the user sees every problem at once.
            was_bad = h.bad
            v = h.values
            if h.code:
                h.stored = stored.get(h.code)
                if h.stored is None:
                    problem(h.row, "code", f"户编号 {h.code} 不存在（或不在您的管理范围内）；新户请留空户编号，由系统编号")
                    h.bad = True
                    continue
            if h.conflicts and not self._settle(h, problem, branch_by, grids_by_branch):
                h.bad = True
                continue
            final = dict(h.stored) if h.stored else dict(NEW_HOUSEHOLD)
            if "branch" in v:
                branch = branch_by.get(v["branch"])
                if branch is None:
                    problem(h.rows["branch"], "branch", f"支部“{v['branch']}”不存在（或不在您的管理范围内）")
                    h.bad = True
                    continue
                final["branch_id"] = branch.pk
            elif h.stored is None:
                problem(h.row, "branch", "新户必须填写支部")
                h.bad = True
                continue
            if "grid" in v:
                grid, refusal = grid_named(grids_by_branch, final["branch_id"], v["grid"])
                if grid is None:
                    problem(h.rows["grid"], "grid", refusal)
                    h.bad = True
                    continue
                final["grid_id"] = grid.pk
            elif h.stored is None:
                problem(h.row, "grid", "新户必须填写网格")
                h.bad = True
                continue
            grid = grid_by_id.get(final["grid_id"])
            if grid is None:
                # The household is in scope but its grid is not (a grid worker's neighbouring grid).
                problem(h.row, "grid", "该户所在网格不在您的管理范围内")
                h.bad = True
                continue
            if grid.branch_id != final["branch_id"]:
                problem(h.rows.get("branch", h.row), "grid", "调整支部时请同时填写新支部的网格")
                h.bad = True
                continue
            for key in ("address", "villager_group", "self_built", "floors", "built_year", "lng", "lat", "notes"):
                if key in v:
                    final[key] = v[key]
            if not final["address"]:
                problem(h.row, "address", "新户必须填写住址")
                h.bad = True
                continue
            if was_bad:
                continue
            if h.stored is not None and final["branch_id"] != h.stored["branch_id"]:
                moved.append(h)
            h.final = final
        if moved:
            refusals = move_refusals([h.stored["id"] for h in moved])
            for h in moved:
                if h.stored["id"] in refusals:
                    found = f"户编号为空，按户主{h.head.name}找到已登记的 {h.code} 户：" if h.adopted else ""
                    problem(h.rows.get("branch", h.row), "branch", found + refusals[h.stored["id"]])
                    h.bad = True

    @staticmethod
    def _settle(h: HouseholdDraft, problem, branch_by: dict, grids_by_branch: dict) -> bool:
        """Rows of one household that disagree on a household cell: when the household is registered
        and all rows but one say what is stored, the one is an edit and stands (an export, edited on one
        row). Otherwise each disagreeing row is refused; False then."""
        def stored_as(key: str, value) -> bool:
            if key == "branch":
                branch = branch_by.get(value)
                return branch is not None and branch.pk == h.stored["branch_id"]
            if key == "grid":
                return any(g.pk == h.stored["grid_id"] for grids in grids_by_branch.values()
                           for g in (grids.get(value),) if g is not None)
            return value == h.stored[key]

        ok = True
        for key, rows in h.conflicts.items():
            edits = [value for value in rows if h.stored is None or not stored_as(key, value)]
            if h.stored is not None and not edits:
                continue  # two spellings of what is stored (a branch's name and its code)
            if h.stored is not None and len(edits) == 1 and len(rows) == 2:
                h.values[key], h.rows[key] = edits[0], rows[edits[0]]
                continue
            (first, first_row), *others = rows.items()
            for _value, row in others:
                problem(row, key, f"与本户第 {first_row} 行的“{first}”不一致")
            ok = False
        return ok

    def _adopt(self, households: list[HouseholdDraft], residents: list[ResidentDraft], branch_by: dict) -> None:
        """A household without a code whose head is already registered as 户主 is that household.

        Villages keep their own sheets without our codes: importing such a sheet a second time must
        find the households the first import created, not create them again. The head is found by
        his ID number, or, when the row has none, by his name as 户主 at the same address in the same
        branch. Registered as someone else than 户主, he heads that household only if another of the
        file's household is registered there too (the widow who heads it now, with her son): a son
        registered in his parents' household who heads a new one with a wife and children of his own
        (分户) does not make the file's household his parents' (his ID number is then refused as
        registered elsewhere, saying where).
        """
        self._registered: dict[str, tuple] = {}  # ID hash -> (household id, code, name, relation), any office
        hashes = [h.head.id_hash for h in households if not h.code and h.head is not None and h.head.id_hash]
        self._looked_up = set(hashes)
        self._lookup_registered(hashes)
        if self._registered:
            self._adopt_by_id(households, residents)
        self._adopt_by_name(households, branch_by)

    def _adopt_by_id(self, households: list[HouseholdDraft], residents: list[ResidentDraft]) -> None:
        visible = self._visible_households({v[0] for v in self._registered.values()})
        not_head = {}  # id(draft) -> the household its head is registered in, as someone else than 户主
        for h in households:
            if h.code or h.bad or h.head is None:
                continue
            registered = self._registered.get(h.head.id_hash)
            if registered is None or registered[0] not in visible:
                continue
            if registered[3] == Relation.HEAD:
                h.code, h.adopted = registered[1], True
            else:
                not_head[id(h)] = registered
        others = [r for r in residents if id(r.household) in not_head and r.record is not r.household.head
                  and r.record.id_hash]
        if not others:
            return
        hashes = [r.record.id_hash for r in others if r.record.id_hash not in self._looked_up]
        self._looked_up.update(hashes)
        self._lookup_registered(hashes)
        for r in others:
            h, registered = r.household, not_head[id(r.household)]
            if not h.code and self._registered.get(r.record.id_hash, (None,))[0] == registered[0]:
                h.code, h.adopted = registered[1], True

    def _adopt_by_name(self, households: list[HouseholdDraft], branch_by: dict) -> None:
        unnamed = defaultdict(list)  # (branch id, address, head's name) -> drafts, for heads without an ID number
        for h in households:
            if h.code or h.bad or h.head is None or h.head.id_hash:
                continue
            branch = branch_by.get(h.values.get("branch"))
            if branch is not None and h.values.get("address"):
                unnamed[branch.pk, h.values["address"], h.head.name].append(h)
        if not unnamed:
            return
        found = defaultdict(list)
        addresses = bulk.one_of(Household, "address", sorted({k[1] for k in unnamed}))
        for key in self.households().filter(addresses, residents__relation=Relation.HEAD).values_list(
                "branch_id", "address", "residents__name", "code"):
            found[key[:3]].append(key[3])
        for key, drafts in unnamed.items():
            # One registered household and one in the file: the same. Two of either: no telling which.
            if len(drafts) == 1 and len(found.get(key, ())) == 1:
                drafts[0].code, drafts[0].adopted = found[key][0], True

    def _lookup_registered(self, hashes: list[str]) -> None:
        if not hashes:
            return
        for id_hash, household_id, code, name, relation in with_id_hash_in(Resident.objects.all(), hashes).values_list(
                "id_number_hash", "household_id", "household__code", "name", "relation"):
            self._registered[id_hash] = (household_id, code, name, relation)

    def _visible_households(self, ids) -> set[int]:
        return set(self.households().filter(bulk.one_of(Household, "pk", sorted(ids))).values_list("pk", flat=True))

    def _bind_residents(self, residents: list[ResidentDraft], problem) -> None:
        """Match each resident by ID number (or by name within his household) and merge."""
        stored_households = {r.household.stored["id"] for r in residents if r.household.stored}
        by_hash: dict[str, ResidentState] = {}
        by_name: dict[tuple[int, str], list[ResidentState]] = defaultdict(list)
        household_of: dict[int, int] = {}  # stored resident id -> household id
        care_tags: dict[str, tuple] = {}  # the stored JSON text -> tags in order: a few distinct sets
        if stored_households:
            # care_tags as stored text: decoding each row's JSON through the field costs more than the query.
            for pk, household_id, name, gender, birth, relation, care, id_hash, ph, sealed in Resident.objects.filter(
                    bulk.one_of(Resident, "household_id", sorted(stored_households))).values_list(
                    "id", "household_id", "name", "gender", "birth_date_cipher", "relation", Cast("care_tags", TextField()),
                    "id_number_hash", "phone_hash", "sensitive_tags_cipher").iterator(chunk_size=10_000):
                tags = care_tags.get(care)
                if tags is None:
                    tags = care_tags[care] = ordered(json.loads(care) if care else (), CARE_TAGS)
                birth = crypto.decrypt_date(birth)  # sealed (1.7 µs each)
                state = ResidentState(pk, name, gender, birth, relation, tags, id_hash, ph, sealed)
                household_of[pk] = household_id
                if id_hash:
                    by_hash[id_hash] = state
                by_name[household_id, name].append(state)
        # Residents registered with a legacy 15-digit number (its hash is the 18-digit one's: `id_key`).
        legacy = set()
        if stored_households:
            legacy = set(Resident.objects.filter(bulk.one_of(Resident, "household_id", sorted(stored_households)))
                         .annotate(digits=Length("id_number_masked")).filter(digits=15).values_list("id", flat=True))
        # ID numbers registered in households outside the file: one resident per ID number, everywhere.
        self._lookup_registered([r.record.id_hash for r in residents if r.record.id_hash
                                 and r.record.id_hash not in by_hash and r.record.id_hash not in self._looked_up])
        elsewhere = {k: v for k, v in self._registered.items() if k not in by_hash}
        visible = self._visible_households({v[0] for v in elsewhere.values()}) if elsewhere else set()
        # A number registered outside the user's scope is refused without saying where, and each such
        # refusal is a look-up (audited, limited): a file of candidate numbers is no oracle.
        lookups = ImportLookups(self.user, "import")
        if lookups.exhausted and any(r.record.id_hash and r.record.id_hash not in by_hash
                                     and elsewhere.get(r.record.id_hash, (None,))[0] not in visible
                                     for r in residents):
            problem(0, "", lookups.exhausted_message())
            for r in residents:
                r.household.bad = True
            return
        taken: dict[int, int] = {}  # stored resident id -> the row that matched it
        for r in residents:
            h, rec = r.household, r.record
            if h.code and h.stored is None:
                continue  # its code found nothing (said once): its people cannot be matched either
            household_id = h.stored["id"] if h.stored else None
            stored = by_hash.get(rec.id_hash) if rec.id_hash else None
            if stored is not None and household_of[stored.id] != household_id:
                problem(rec.row, "id_number",
                        f"该身份证号已登记：{self._code_by_id.get(household_of[stored.id], '')}（{stored.name}）")
                h.bad = True
                continue
            if stored is None and rec.id_hash in elsewhere:
                household, code, name, relation = elsewhere[rec.id_hash]
                # Where it is registered is said only to someone who may see that household
                # (as refuse_duplicate_id_number does in the form).
                split = "如是分户（另立新户），请联系办事处办理" if not h.code and h.head is rec else "请核对"
                if household in visible:
                    problem(rec.row, "id_number", f"该身份证号已登记在 {code} 户（{name}，"
                            f"{RELATION_LABELS.get(relation, relation)}）：一个人只能登记在一户，" + split)
                elif lookups.take(rec.id.value):
                    problem(rec.row, "id_number", NOT_HERE)
                h.bad = True
                continue
            if stored is None and household_id is not None:
                same_name = by_name.get((household_id, rec.name), [])
                if rec.id_hash:  # a new ID number can only complete a resident registered without one
                    same_name = [s for s in same_name if not s.id_number_hash]
                if len(same_name) > 1:
                    problem(rec.row, "name", f"户中有 {len(same_name)} 位名叫{rec.name}的居民，请填写身份证号以区分")
                    h.bad = True
                    continue
                stored = same_name[0] if same_name else None
            if stored is not None:
                first = taken.setdefault(stored.id, rec.row)
                if first != rec.row:
                    problem(rec.row, "name", f"与第 {first} 行是同一位居民")
                    h.bad = True
                    continue
            r.stored = stored
            r.upgrade = stored is not None and stored.id in legacy and rec.id is not None and rec.id.kind != "legacy15"
            r.final = self._merge(r, problem)
            if r.final is None:
                h.bad = True
        if withheld := lookups.file_problem():
            problem(0, "", withheld)
        self._check_heads(residents, by_name, taken, problem)

    @staticmethod
    def _check_heads(residents: list[ResidentDraft], stored: dict, taken: dict, problem) -> None:
        """One 户主 per household: the file's heads, and the stored ones no row of the file changes.

        Counted on the drafts, without a map per household: a re-import holds 100k stored residents
        already, close to the memory budget."""
        head = Relation.HEAD.value
        kept: dict[int, list[str]] = {}  # household id -> stored heads the file leaves as they are (few)
        for (household_id, _name), states in stored.items():
            for s in states:
                if s.relation == head and s.id not in taken:
                    kept.setdefault(household_id, []).append(s.name)
        heads = []
        for r in residents:
            if r.final is not None and r.final.relation == head:
                heads.append(r)
                r.household.heads += 1
        def kept_in(h: HouseholdDraft) -> list[str]:
            return kept.get(h.stored["id"], []) if h.stored else []

        doubled: dict[int, list[ResidentDraft]] = {}  # by id() of the household draft
        for r in heads:
            if r.household.heads + len(kept_in(r.household)) > 1:
                doubled.setdefault(id(r.household), []).append(r)
        for drafts in doubled.values():
            names = [r.final.name for r in drafts] + kept_in(drafts[0].household)
            for r in drafts:
                problem(r.record.row, "relation", f"本户将有 {len(names)} 位户主（{'、'.join(names)}）："
                                                  "一户只有一位户主，请核对与户主关系", "warning")

    @staticmethod
    def _merge(r: ResidentDraft, problem) -> ResidentState | None:
        """What the resident will be: the stored record, with every non-blank cell of the file over it."""
        rec, s = r.record, r.stored
        birth = rec.birth_date
        if birth.__class__ is xlsx.PartialDate:  # 出生年月 and no ID number to complete it
            known = s.birth_date if s is not None else None
            if known is None or not birth.fits(known):
                problem(rec.row, "birth_date", f"出生日期“{birth.text}”只写到{birth.written_to}，" + (
                    "与已登记的出生日期不一致" if known else "无法确定是哪一天") + "：请写到日（如 1991-01-01），或填写身份证号")
                return None
            birth = known  # the registered day fits: kept
        if s is None:
            gender = rec.gender or (rec.id.gender if rec.id else "") or ""
            if not gender:
                problem(rec.row, "gender", "性别不能为空（也无法从身份证号得出）")
                return None
            if not rec.relation:
                problem(rec.row, "relation", "与户主关系不能为空")
                return None
            birth = birth or (rec.id.birth_date if rec.id else None)
            return ResidentState(None, rec.name, gender, birth, rec.relation, rec.care_tags or (), rec.id_hash,
                                 rec.phone_hash, rec.sensitive_tags or ())
        sensitive = s.sensitive
        if rec.sensitive_tags is not None:
            current = ordered(crypto.decrypt_json(s.sensitive, default=[]), SENSITIVE_TAGS)
            if rec.sensitive_tags != current:
                sensitive = rec.sensitive_tags
        return ResidentState(
            s.id, rec.name, rec.gender or s.gender, birth or s.birth_date, rec.relation or s.relation,
            s.care_tags if rec.care_tags is None else rec.care_tags, rec.id_hash or s.id_number_hash,
            rec.phone_hash or s.phone_hash, sensitive,
        )

    # -----------------------------------------------------------------------------------------
    # Export

    def export_queryset(self):
        return self.households()

    def export_count(self, queryset) -> int:  # a row per resident, and one per household without any
        return (Resident.objects.filter(household__in=queryset).count()
                + queryset.filter(residents__isnull=True).count())

    def export_rows(self, queryset, *, masked: bool):
        """One row per resident (a household without residents gets one row of its own), in code order."""
        households = list(queryset.order_by("code").values_list(
            "id", "code", "branch__name", "grid__name", "address", "villager_group", "self_built", "floors",
            "built_year", "lng", "lat", "notes"))
        people = defaultdict(list)
        residents = Resident.objects.filter(household_id__in=queryset.values("pk")).order_by("household_id", "id")
        for r in residents.values_list("household_id", "name", "relation", "gender", "birth_year", "birth_date_cipher",
                                       "id_number_cipher",
                                       "id_number_masked", "phone_cipher", "phone_masked", "care_tags",
                                       "sensitive_tags_cipher"):
            people[r[0]].append(r)
        nobody = [""] * 8
        for pk, code, branch, grid, address, group, self_built, floors, built_year, lng, lat, notes in households:
            head = [code, branch, grid, address, group, "是" if self_built else "否", floors, built_year]
            tail = [lng, lat, notes]
            for r in people.get(pk) or [None]:
                if r is None:
                    yield head + nobody + tail
                    continue
                (_h, name, relation, gender, birth_year, birth_cipher, id_cipher, id_masked, phone_cipher, phone_masked,
                 care, sealed) = r
                if masked:  # for WeChat groups: who, when born and how to reach him, not given away
                    # *** for everyone: *** only where a tag is would tell who is 低保 or 残疾.
                    id_value, phone_value, sensitive = id_masked, phone_masked, "***"
                    name, birth = mask_name(name), mask_birth_year(birth_year)
                else:
                    birth = crypto.decrypt_date(birth_cipher)
                    id_value, phone_value = crypto.decrypt(id_cipher), crypto.decrypt(phone_cipher)
                    sensitive = "、".join(crypto.decrypt_json(sealed, default=[]))
                yield head + [name, relation, GENDER_LABELS.get(gender, ""), birth, id_value, phone_value,
                              "、".join(ordered(care, CARE_TAGS)), sensitive] + tail

    # -----------------------------------------------------------------------------------------
    # Writing

    def apply(self, outcome: Outcome, progress=None) -> None:
        plan: Plan = outcome.plan
        now = timezone.now()
        if progress:
            progress(0, 1, "写入")
        old = {}
        if plan.changed_residents:
            old = {row[0]: row[1:] for row in Resident.objects.filter(
                bulk.one_of(Resident, "pk", [r.stored.id for r in plan.changed_residents])).values_list(
                "id", "id_number_cipher", "id_number_masked", "phone_cipher", "phone_masked", "birth_date_cipher")}
        self._assign_codes(plan.new_households)
        bulk.insert_rows(
            Household, ("code", *HOUSEHOLD_FIELDS, "created_at", "updated_at"),
            ((h.code, *(h.final[f] for f in HOUSEHOLD_FIELDS), now, now) for h in plan.new_households),
        )
        new_ids = {}
        if plan.new_households:
            codes = [h.code for h in plan.new_households]
            new_ids = dict(Household.objects.filter(bulk.one_of(Household, "code", codes)).values_list("code", "id"))
        for h in plan.new_households:
            h.final["id"] = new_ids[h.code]
        bulk.update_rows(
            Household, (*HOUSEHOLD_FIELDS, "updated_at"),
            ((h.stored["id"], *(h.final[f] for f in HOUSEHOLD_FIELDS), now) for h in plan.changed_households),
        )
        # Rows are built (and their ID numbers and phones encrypted) as the database takes them in.
        bulk.insert_rows(Resident, ("household_id", *RESIDENT_FIELDS),
                         self._resident_rows(plan.new_residents, old, lambda r: r.household.final["id"]))
        # updated_at is the version an open edit form is checked against (lianhu.common.versions).
        changed = self._resident_rows(plan.changed_residents, old, lambda r: r.stored.id)
        bulk.update_rows(Resident, (*RESIDENT_FIELDS, "updated_at"), ((*row, now) for row in changed))
        if progress:
            progress(1, 1, "写入")

    @staticmethod
    def _resident_rows(drafts: list[ResidentDraft], old: dict, key: Callable) -> Iterator[tuple]:
        """(key, *RESIDENT_FIELDS) per resident; only a new or different ID number, phone or birth date is encrypted."""
        seal = crypto.encrypter()
        tag_json: dict[tuple, str] = {}  # a few distinct sets of tags; each is sealed afresh all the same
        for r in drafts:
            rec, f, s = r.record, r.final, r.stored
            id_cipher, id_masked, phone_cipher, phone_masked, birth_cipher = NOTHING_SEALED if s is None else old[s.id]
            if rec.id is not None and (s is None or s.id_number_hash != rec.id_hash or r.upgrade):
                id_cipher, id_masked = seal(rec.id.value), mask_id_number(rec.id.value)
            if rec.phone and (s is None or s.phone_hash != rec.phone_hash):
                phone_cipher, phone_masked = seal(rec.phone), mask_phone(rec.phone)
            birth = f.birth_date
            if s is None or birth != s.birth_date:
                birth_cipher = seal(birth.isoformat()) if birth else ""
            tags = f.sensitive  # the stored cipher text, unless the file changes the tags
            if tags.__class__ is tuple:
                if tags:
                    text = tag_json.get(tags)
                    if text is None:
                        text = tag_json[tags] = json.dumps(list(tags), ensure_ascii=False)
                    tags = seal(text)
                else:
                    tags = ""
            yield (key(r), f.name, initials(f.name), f.gender, birth.year if birth else None, birth_cipher, f.relation,
                   f.care_tags, tags, id_cipher,
                   f.id_number_hash, id_masked, phone_cipher, f.phone_hash, phone_masked)

    def _assign_codes(self, drafts: list[HouseholdDraft]) -> None:
        """Codes as household_create gives them (branch code + sequence), numbered on from the branch's last."""
        by_branch: dict[int, list[HouseholdDraft]] = defaultdict(list)
        for h in drafts:
            by_branch[h.final["branch_id"]].append(h)
        for branch in Branch.objects.filter(pk__in=list(by_branch)):
            seq = int(next_household_code(branch)[len(branch.code):])
            for h in by_branch[branch.pk]:
                h.code = f"{branch.code}{seq:04d}"
                seq += 1
