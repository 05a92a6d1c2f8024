"""The members file (党员名册) and the links file (联系关系表).

Rows bind with the rules of the forms and services: the validators and choices of MemberForm and
ExemptForm, member_update's "capacity not below the current load", member_mark_exempt/left (a member
who can no longer serve releases his households), and link_create's checks (active member, same
branch, capacity, one active link per household), applied in bulk inside the import's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from lianhu.audit.lookups import NOT_HERE, ImportLookups
from lianhu.common import bulk, crypto, xlsx
from lianhu.common.masking import mask_birth_year, mask_id_number, mask_phone
from lianhu.common.models import with_id_hash_in
from lianhu.common.search_keys import id_number_hash, phone_hash
from lianhu.common.validators import IdNumber
from lianhu.common.xlsx import CellError, Column, Memo, Outcome, Table
from lianhu.org.models import Branch, Grid, Household
from lianhu.org.rules import grid_named
from lianhu.org.sheets import GENDER_LABELS, GENDERS, initials

from . import rules
from .filters import MemberFilter
from .models import (DEFAULT_CAPACITY, EndReason, ExemptReason, LiaisonLink, MemberStatus, PartyMember,
                     party_age_problem, underage_problem)

STATUSES = {
    **{s.label: s.value for s in MemberStatus}, **{s.value: s.value for s in MemberStatus},
    "正常": MemberStatus.ACTIVE, "能联户": MemberStatus.ACTIVE, "在册": MemberStatus.ACTIVE,
    "不能联户": MemberStatus.EXEMPT, "丧失联户能力": MemberStatus.EXEMPT, "转出": MemberStatus.LEFT,
}
STATUS_LABELS = dict(MemberStatus.choices)
REASONS = {**{xlsx.compact(r.label): r.value for r in ExemptReason}, **{r.value: r.value for r in ExemptReason},
           "年老": ExemptReason.OLD, "体弱": ExemptReason.FRAIL, "患病": ExemptReason.ILL, "残疾": ExemptReason.DISABLED,
           "外出": ExemptReason.AWAY}
MEMBER_FIELDS = ("branch_id", "grid_id", "name", "gender", "birth_date", "joined_party_on", "address", "lng", "lat",
                 "status", "capacity", "exempt_reason", "exempt_since", "exempt_approved_by", "post")
# The columns they are stored in: the birth date sealed, its year in clear (SealedPersonalData).
MEMBER_COLUMNS = tuple(c for f in MEMBER_FIELDS for c in (("birth_year", "birth_date_cipher") if f == "birth_date" else (f,)))
# What a preview compares, field by field, and the column each field is shown as.
MEMBER_CHANGES = {f: f.removesuffix("_id") for f in MEMBER_FIELDS} | {
    "id_number_hash": "id_number", "id_number_masked": "id_number", "phone_hash": "phone"}
SEALED_FIELDS = ("id_number_cipher", "id_number_hash", "id_number_masked", "phone_cipher", "phone_hash", "phone_masked")
NEW_MEMBER = {"id": None, "branch_id": None, "grid_id": None, "name": "", "gender": "", "birth_date": None,
              "joined_party_on": None, "address": "", "lng": None, "lat": None, "status": MemberStatus.ACTIVE,
              "capacity": DEFAULT_CAPACITY, "exempt_reason": "", "exempt_since": None, "exempt_approved_by": "",
              "post": "", "id_number_hash": "", "id_number_masked": "", "phone_hash": ""}


def _limit(name: str) -> int:
    return PartyMember._meta.get_field(name).max_length


@dataclass(slots=True)
class MemberDraft:
    row: int
    name: str
    id: IdNumber | None
    id_hash: str
    phone: str
    values: dict  # non-blank, normalised cells
    rows: dict = field(default_factory=dict)
    stored: dict | None = None
    final: dict | None = None
    load: int = 0  # active links now


class _OfficeSheet(xlsx.RosterSheet):
    """What the member and link sheets look up: an office's rows within the user's scope for the sheet's action."""

    def branches(self):
        return self.scoped(Branch, "office")

    def grids(self):
        return self.scoped(Grid, "branch__office")

    def households(self):
        return self.scoped(Household, "branch__office")

    def members(self):
        return self.scoped(PartyMember, "branch__office")


class MemberSheet(_OfficeSheet):
    kind = "members"
    sheet_name = "党员"
    telling = ("joined_party_on", "status", "exempt_reason", "exempt_since", "exempt_approved_by", "post", "capacity")
    label = "党员名册"
    action = "manage_members"
    filterset = MemberFilter  # exports the member list as filtered
    columns = (
        Column("branch", "支部", ("党支部", "所在支部", "所属支部"), required=True, width=12, options="branch"),
        Column("grid", "网格", ("所在网格",), width=12, options="grid"),
        Column("name", "姓名", ("党员姓名",), required=True, width=9),
        Column("gender", "性别", (), width=6, options="gender", note="留空时按身份证号确定"),
        Column("birth_date", "出生日期", ("出生年月日", "出生年月", "生日"), width=12),
        Column("joined_party_on", "入党日期", ("入党时间", "入党年月"), width=12),
        Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), width=21, text_format=True,
               note="请保持“文本”格式"),
        Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码"), width=14, text_format=True),
        Column("address", "住址", ("家庭住址", "地址"), width=24),
        Column("status", "状态", ("联户状态",), width=12, options="status", note="联户、丧失联户能力或已转出；新党员留空即为联户"),
        Column("exempt_reason", "不能联户原因", ("丧失联户能力原因", "原因"), width=10, options="reason",
               note="状态为“丧失联户能力”时必填：老、弱、病、残、长期外出"),
        Column("exempt_since", "认定日期", (), width=12, note="状态为“丧失联户能力”时必填，不能晚于今天"),
        Column("exempt_approved_by", "认定人", (), width=9),
        Column("post", "设岗定责", ("岗位",), width=12, note="不能联户的党员担任的岗位，如政策宣传岗"),
        Column("capacity", "可联系户数", ("联系户数上限", "可联户数"), width=10, note=f"整数，留空为 {DEFAULT_CAPACITY}"),
        Column("lng", "经度", (), width=11),
        Column("lat", "纬度", (), width=10),
    )
    required_for_new = ("branch", "name")
    instructions = (
        "一行一名党员；按身份证号识别党员（未登记身份证号的，按支部 + 姓名识别）。同一文件导入两次，第二次不会有任何改动。",
        "状态改为“丧失联户能力”或“已转出”的党员，其联系的户会解除联系，转入“待安排联系党员”清单（预览时会列出户数）。",
        "留空的单元格不会清除已有信息。导入只新增和更新，不删除。",
        "文件中任何一行有错误时，整个文件都不会导入；请下载问题清单，按“错误说明”列修改后重新上传。",
    )

    def options(self) -> dict[str, list[str]]:
        return {
            "branch": [b.name for b in self.branches().order_by("code")],
            "grid": list(dict.fromkeys(self.grids().order_by("code").values_list("name", flat=True))),
            "gender": ["男", "女"],
            "status": list(MemberStatus.labels),
            "reason": list(ExemptReason.values),
        }

    # -----------------------------------------------------------------------------------------

    def validate(self, table: Table, progress=None, *, for_update: bool = False) -> Outcome:
        outcome = Outcome(kind=self.kind, rows=len(table.rows))

        def problem(row: int, key: str, message: str, level: str = "error") -> None:
            outcome.problems.append(table.problem(row, key, message, level))

        drafts = self._read_rows(table, problem, progress)
        outcome.rows = len(table.rows)  # exact once the rows have been read
        if progress:
            progress(len(table.rows), len(table.rows), "核对已有数据")
        branches = list(self.branches())
        branch_by = {b.name: b for b in branches} | {b.code: b for b in branches}
        branch_names = {b.pk: b.name for b in branches}
        grids: dict[int, dict[str, Grid]] = defaultdict(dict)
        for g in self.grids():
            grids[g.branch_id][g.name] = grids[g.branch_id][g.code] = g

        columns = ("id", *MEMBER_COLUMNS, "id_number_hash", "id_number_masked", "phone_hash")
        by_hash, by_name = {}, defaultdict(list)
        visible = self.members()
        if for_update:
            visible = visible.select_for_update(of=("self",))
        branch_ids = {branch_by[d.values["branch"]].pk for d in drafts if d.values.get("branch") in branch_by}
        for row in map(_opened, visible.filter(branch_id__in=branch_ids).values(*columns)):
            if row["id_number_hash"]:
                by_hash[row["id_number_hash"]] = row
            by_name[row["branch_id"], row["name"]].append(row)
        hashes = [d.id_hash for d in drafts if d.id_hash and d.id_hash not in by_hash]
        registered = {}
        if hashes:
            for row in with_id_hash_in(PartyMember.objects.all(), hashes).values("id_number_hash", "branch_id", "name"):
                registered[row["id_number_hash"]] = row
        # Members registered in branches of this file's scope, but found by ID number from another branch.
        moving = [r for r in registered.values() if r["branch_id"] in branch_names]
        if moving:
            for row in map(_opened, with_id_hash_in(visible, [r["id_number_hash"] for r in moving]).values(*columns)):
                by_hash[row["id_number_hash"]] = row
                registered.pop(row["id_number_hash"], None)

        today = timezone.localdate()
        lookups = ImportLookups(self.user, "import")
        if lookups.exhausted and any(d.id_hash and d.id_hash not in by_hash for d in drafts):
            problem(0, "", lookups.exhausted_message())
            return outcome
        taken: dict[int, int] = {}
        unnamed: dict[tuple[int, str], int] = {}  # (branch id, name) -> first row, new members without an ID number
        for d in drafts:
            v = d.values
            stored = by_hash.get(d.id_hash) if d.id_hash else None
            if stored is None and d.id_hash in registered:
                if lookups.take(d.id.value):  # a number registered outside the user's scope: a look-up
                    problem(d.row, "id_number", NOT_HERE)
                continue
            branch = None
            if "branch" in v:
                branch = branch_by.get(v["branch"])
                if branch is None:
                    problem(d.row, "branch", f"支部“{v['branch']}”不存在（或不在您的管理范围内）")
                    continue
            if stored is None and branch is not None:
                same = by_name.get((branch.pk, d.name), [])
                if d.id_hash:
                    same = [s for s in same if not s["id_number_hash"]]
                if len(same) > 1:
                    problem(d.row, "name", f"{branch.name}有 {len(same)} 位名叫{d.name}的党员，请填写身份证号以区分")
                    continue
                stored = same[0] if same else None
            if stored is not None:
                first = taken.get(stored["id"])
                if first is not None:
                    problem(d.row, "name", f"与第 {first} 行是同一名党员")
                    continue
                taken[stored["id"]] = d.row
            elif not d.id_hash and branch is not None:
                # Two new members of one name and no ID number: the same person typed twice, or two
                # people no later import could tell apart. Either way, not two records.
                first = unnamed.setdefault((branch.pk, d.name), d.row)
                if first != d.row:
                    problem(d.row, "name", f"与第 {first} 行同名且都没有身份证号：是同一人请删去一行，不是请填写身份证号")
                    continue
            d.stored = stored
            final = dict(stored) if stored else dict(NEW_MEMBER)
            final["name"] = d.name
            if branch is not None:
                final["branch_id"] = branch.pk
            elif stored is None:
                problem(d.row, "branch", "新党员必须填写支部")
                continue
            if "grid" in v:
                grid, refusal = grid_named(grids, final["branch_id"], v["grid"])
                if grid is None:
                    problem(d.row, "grid", refusal)
                    continue
                final["grid_id"] = grid.pk
            elif final["grid_id"] is not None and stored is not None and final["branch_id"] != stored["branch_id"]:
                final["grid_id"] = None  # the old branch's grid cannot stay
            for key in ("gender", "birth_date", "joined_party_on", "address", "lng", "lat", "status", "capacity",
                        "exempt_reason", "exempt_since", "exempt_approved_by", "post"):
                if key in v:
                    final[key] = v[key]
            if not all(_complete_date(d, key, stored, final, problem) for key in ("birth_date", "joined_party_on")):
                continue
            if stored is None and not final["gender"]:
                final["gender"] = d.id.gender if d.id and d.id.gender else ""
                if not final["gender"]:
                    problem(d.row, "gender", "性别不能为空（也无法从身份证号得出）")
                    continue
            if stored is None and not final["birth_date"] and d.id is not None:
                final["birth_date"] = d.id.birth_date
            if stored is None or final["birth_date"] != stored["birth_date"]:
                underage = underage_problem(final["birth_date"], today)
                if underage:
                    problem(d.row, "birth_date" if "birth_date" in v else "id_number", underage)
                    continue
            if stored is None or any(final[k] != stored[k] for k in ("birth_date", "joined_party_on")):
                age = party_age_problem(final["birth_date"], final["joined_party_on"])
                if age is not None:
                    problem(d.row, "joined_party_on", age[1], age[0])
                    if age[0] == "error":
                        continue
            if d.id_hash:
                final["id_number_hash"] = d.id_hash
                if d.id.kind != "legacy15" or not final["id_number_masked"]:
                    # The 18-digit number replaces a registered 15-digit one (both hash alike: `id_key`).
                    final["id_number_masked"] = mask_id_number(d.id.value)
            if d.phone:
                final["phone_hash"] = phone_hash(d.phone)
            if not self._check_status(d, final, problem, today):
                continue
            d.final = final

        self._check_loads(drafts, problem, outcome)
        plan = {"new": [], "changed": [], "released": []}
        for d in drafts:
            if d.final is None:
                continue
            if d.stored is None:
                plan["new"].append(d)
                outcome.count("党员", "created")
            elif d.final != d.stored:
                plan["changed"].append(d)
                outcome.count("党员", "updated")
                if d.load and d.final["status"] != MemberStatus.ACTIVE and d.stored["status"] == MemberStatus.ACTIVE:
                    plan["released"].append(d)
            else:
                outcome.count("党员", "unchanged")
        outcome.list_updates(
            xlsx.Update(d.row, f"党员 {d.name}", self.changed_columns(d.stored, d.final, MEMBER_CHANGES))
            for d in plan["changed"])
        released = sum(d.load for d in plan["released"])
        if released:
            outcome.count("联系关系", "ended", released)
            outcome.notes.append(f"{len(plan['released'])} 名党员改为不能联户或转出，其联系的 {released} 户随之解除联系，转入“待安排联系党员”")
        if withheld := lookups.file_problem():
            problem(0, "", withheld)
        outcome.problems.sort(key=lambda p: (p.row, p.letter))
        outcome.plan = plan
        return outcome

    def _read_rows(self, table: Table, problem, progress) -> list[MemberDraft]:
        norm = {
            "branch": Memo(xlsx.compact), "grid": Memo(xlsx.compact), "name": Memo(xlsx.person_name),
            "gender": Memo(lambda v: xlsx.choice(v, GENDERS, "性别")),
            "birth_date": Memo(_day_or_month), "joined_party_on": Memo(_day_or_month), "exempt_since": Memo(xlsx.date),
            "address": Memo(xlsx.text), "exempt_approved_by": Memo(xlsx.compact), "post": Memo(xlsx.text),
            "status": Memo(lambda v: xlsx.choice(v, STATUSES, "状态")),
            "exempt_reason": Memo(lambda v: xlsx.choice(v, REASONS, "不能联户原因")),
            "capacity": Memo(xlsx.field_rules(PartyMember, "capacity", lambda v: xlsx.integer(v, units="户"))),
            "lng": Memo(xlsx.field_rules(PartyMember, "lng", lambda v: xlsx.decimal(v))),
            "lat": Memo(xlsx.field_rules(PartyMember, "lat", lambda v: xlsx.decimal(v))),
        }
        limits = {k: _limit(k) for k in ("name", "address", "exempt_approved_by", "post")}
        getters = [(k, table.getter(k)) for k in norm if table.has(k)]
        get_id, get_phone = table.getter("id_number"), table.getter("phone")
        today = timezone.localdate()
        seen: dict[str, int] = {}
        drafts = []
        total = len(table.rows)
        for done, (n, cells) in enumerate(table.rows, start=1):
            if progress and done % 2000 == 0:
                progress(done, total, "检查")
            values, bad = {}, False
            for key, getter in getters:
                raw = getter(cells)
                if raw == "" or raw is None:
                    continue
                try:
                    value = norm[key](raw)
                except CellError as e:
                    problem(n, key, str(e))
                    bad = True
                    continue
                if value in ("", None):
                    continue
                if key in limits and len(value) > limits[key]:
                    problem(n, key, f"不能超过 {limits[key]} 个字")
                    bad = True
                    continue
                values[key] = value
            for key in ("birth_date", "joined_party_on"):
                value = values.get(key)
                if value and (value.year > today.year if value.__class__ is xlsx.PartialDate else value > today):
                    problem(n, key, "日期不能晚于今天")
                    bad = True
            name = values.pop("name", "")
            if not name:
                problem(n, "name", "姓名不能为空")
                bad = True
            id_value, id_hash, phone = None, "", ""
            try:
                id_value = xlsx.id_number(get_id(cells))
            except CellError as e:
                problem(n, "id_number", str(e))
                bad = True
            try:
                phone = xlsx.phone(get_phone(cells))
            except CellError as e:
                problem(n, "phone", str(e))
                bad = True
            if id_value is not None:
                id_hash = id_number_hash(id_value.value)
                if id_hash in seen:
                    problem(n, "id_number", f"与第 {seen[id_hash]} 行是同一个人（身份证号相同）：同一个人只能出现一次")
                    bad = True
                seen.setdefault(id_hash, n)
                if id_value.warning:
                    problem(n, "id_number", id_value.warning, "warning")
                if id_value.gender and values.get("gender") and values["gender"] != id_value.gender:
                    problem(n, "gender", f"性别“{GENDER_LABELS[values['gender']]}”与身份证号不一致，请核对", "warning")
            if not bad:
                drafts.append(MemberDraft(row=n, name=name, id=id_value, id_hash=id_hash, phone=phone, values=values))
        return drafts

    @staticmethod
    def _check_status(d: MemberDraft, final: dict, problem, today: dt.date) -> bool:
        """The rules of ExemptForm and of the member_exempt_* constraints, on what the member will be."""
        v = d.values
        if final["status"] == MemberStatus.EXEMPT:
            if not final["exempt_reason"]:
                problem(d.row, "exempt_reason", "状态为“丧失联户能力”时必须填写不能联户原因")
                return False
            if not final["exempt_since"]:
                problem(d.row, "exempt_since", "状态为“丧失联户能力”时必须填写认定日期")
                return False
            if final["exempt_since"] > today:
                problem(d.row, "exempt_since", "认定日期不能晚于今天")
                return False
        else:
            if "exempt_reason" in v:
                problem(d.row, "exempt_reason", f"状态为“{STATUS_LABELS[final['status']]}”时不能填写不能联户原因")
                return False
            # Reinstating or leaving clears the exemption, as member_reinstate and member_mark_left do.
            final["exempt_reason"], final["exempt_since"] = "", None
            if final["status"] == MemberStatus.ACTIVE:
                final["exempt_approved_by"] = ""
        return True

    def _check_loads(self, drafts: list[MemberDraft], problem, outcome: Outcome) -> None:
        """member_update's rules for members who have households: capacity and branch."""
        ids = [d.stored["id"] for d in drafts if d.final is not None and d.stored is not None]
        loads = Counter()
        for part in xlsx.chunks(ids):
            loads.update(dict(LiaisonLink.objects.active().filter(member_id__in=part).values("member_id")
                              .annotate(n=Count("id")).values_list("member_id", "n")))
        for d in drafts:
            if d.final is None or d.stored is None:
                continue
            d.load = loads.get(d.stored["id"], 0)
            if not d.load:
                continue
            if d.final["status"] == MemberStatus.ACTIVE and d.final["capacity"] < d.load:
                problem(d.row, "capacity", f"可联系户数不能少于当前已联系的户数（{d.load} 户）")
                d.final = None
            elif d.final["branch_id"] != d.stored["branch_id"]:
                problem(d.row, "branch", "该党员仍有联系户，请先解除联系再调往其他支部")
                d.final = None

    # -----------------------------------------------------------------------------------------

    def apply(self, outcome: Outcome, progress=None) -> None:
        plan = outcome.plan
        today = timezone.localdate()
        released = plan["released"]
        if released:
            ends = []
            links = LiaisonLink.objects.active().filter(member_id__in=[d.stored["id"] for d in released])
            by_member = {d.stored["id"]: d for d in released}
            for pk, member_id, started_on in links.values_list("id", "member_id", "started_on"):
                final = by_member[member_id].final
                exempt = final["status"] == MemberStatus.EXEMPT
                on = final["exempt_since"] if exempt else today
                ends.append((pk, max(on, started_on), EndReason.MEMBER_EXEMPT if exempt else EndReason.MEMBER_LEFT,
                             self.user.pk if self.user is not None else None))
            bulk.update_rows(LiaisonLink, ("ended_on", "end_reason", "ended_by_id"), ends)
        bulk.insert_rows(PartyMember, (*MEMBER_COLUMNS, "name_initials", *SEALED_FIELDS),
                         (self._row(d, {}) for d in plan["new"]))
        ciphers = {}
        for part in xlsx.chunks([d.stored["id"] for d in plan["changed"]]):
            ciphers.update((row[0], row[1:]) for row in PartyMember.objects.filter(pk__in=part).values_list(
                "id", "id_number_cipher", "id_number_masked", "phone_cipher", "phone_masked", "birth_date_cipher"))
        # updated_at is the version an open edit form is checked against (lianhu.common.versions).
        now = timezone.now()
        bulk.update_rows(PartyMember, (*MEMBER_COLUMNS, "name_initials", *SEALED_FIELDS, "updated_at"),
                         ((d.stored["id"], *self._row(d, ciphers), now) for d in plan["changed"]))

    @staticmethod
    def _row(d: MemberDraft, ciphers: dict) -> tuple:
        f, s = d.final, d.stored
        old = ciphers.get(s["id"], ("", "", "", "", "")) if s is not None else ("", "", "", "", "")
        if d.id is not None and (s is None or s["id_number_hash"] != d.id_hash
                                 or s["id_number_masked"] != f["id_number_masked"]):
            id_cipher, id_masked = crypto.encrypt(d.id.value), mask_id_number(d.id.value)
        else:
            id_cipher, id_masked = old[0], old[1]
        if d.phone and (s is None or s["phone_hash"] != f["phone_hash"]):
            phone_cipher, phone_masked = crypto.encrypt(d.phone), mask_phone(d.phone)
        else:
            phone_cipher, phone_masked = old[2], old[3]
        birth = f["birth_date"]
        birth_cipher = old[4] if s is not None and birth == s["birth_date"] else crypto.encrypt(birth.isoformat()) if birth else ""
        sealed_birth = {"birth_year": birth.year if birth else None, "birth_date_cipher": birth_cipher}
        return (*(sealed_birth[k] if k in sealed_birth else f[k] for k in MEMBER_COLUMNS), initials(f["name"]),
                id_cipher, f["id_number_hash"], id_masked, phone_cipher, f["phone_hash"], phone_masked)

    # -----------------------------------------------------------------------------------------

    def export_queryset(self):
        return self.members()

    def export_rows(self, queryset, *, masked: bool):
        rows = queryset.order_by("branch__code", "name", "id").values_list(
            "branch__name", "grid__name", "name", "gender", "birth_year", "birth_date_cipher", "joined_party_on", "id_number_cipher",
            "id_number_masked", "phone_cipher", "phone_masked", "address", "status", "exempt_reason", "exempt_since",
            "exempt_approved_by", "post", "capacity", "lng", "lat")
        for (branch, grid, name, gender, birth_year, birth_cipher, joined, id_cipher, id_masked, phone_cipher,
             phone_masked, address, status, reason, since, approver, post, capacity, lng, lat) in rows:
            if masked:  # the member's name stays: branches post who links which households
                id_value, phone_value, birth = id_masked, phone_masked, mask_birth_year(birth_year)
            else:
                birth = crypto.decrypt_date(birth_cipher)
                id_value, phone_value = crypto.decrypt(id_cipher), crypto.decrypt(phone_cipher)
            yield [branch, grid or "", name, GENDER_LABELS.get(gender, ""), birth, joined, id_value, phone_value,
                   address, STATUS_LABELS[status], reason, since, approver, post, capacity, lng, lat]


def _opened(row: dict) -> dict:
    """A member's stored values as the comparison needs them: the sealed birth date opened."""
    row.pop("birth_year")
    row["birth_date"] = crypto.decrypt_date(row.pop("birth_date_cipher"))
    return row


def _day_or_month(value):
    """A date, or one written to the month or year only (入党时间 2003.01, 出生年月 1970.05): party
    rosters often keep them so. `_complete_date` makes a day of it once the member is found."""
    return xlsx.partial_date(value) or xlsx.date(value)


DATE_LABELS = {"birth_date": "出生日期", "joined_party_on": "入党日期"}


def _complete_date(d: MemberDraft, key: str, stored: dict | None, final: dict, problem) -> bool:
    """Turn a date without its day into one: the day the ID number gives (birth), else the one
    registered if it falls in the month written, else the 1st of that month, said in a warning.
    False (with the row's error) when only a year is written."""
    value = final[key]
    if value.__class__ is not xlsx.PartialDate:
        return True
    label = DATE_LABELS[key]
    born = d.id.birth_date if key == "birth_date" and d.id is not None else None
    known = born or (stored[key] if stored else None)
    if known and value.fits(known):
        final[key] = known
    elif born:
        final[key] = born
        problem(d.row, key, f"{label}“{value.text}”与身份证号中的出生日期不一致，已按身份证号登记，请核对",
                "warning")
    elif len(value.months) == 1:
        final[key] = dt.date(value.year, value.months[0], 1)
        problem(d.row, key, f"{label}“{value.text}”只写到月，按 {final[key]:%Y-%m-%d} 登记", "warning")
    else:
        problem(d.row, key, f"{label}“{value.text}”只写到{value.written_to}" + (
            "（写成数字时 1 月和 10 月分不清）" if value.months else "") + "：请写到月（如 2003-01）或日")
        return False
    return True


@dataclass(slots=True)
class LinkDraft:
    row: int
    code: str
    branch: str
    member_name: str
    member_id: IdNumber | None
    member_masked: str  # a masked ID number from a shared export: checked, not used to find the member
    started_on: dt.date | None
    household: dict | None = None
    member: dict | None = None
    current: dict | None = None  # the household's active link now


class LinkSheet(_OfficeSheet):
    kind = "links"
    sheet_name = "联系关系"
    telling = ("member_name", "member_id_number", "started_on")
    label = "党员联系户"
    action = "manage_members"
    filterset = MemberFilter  # the links of the member list as filtered

    @classmethod
    def export_queryset_for(cls, filterset):
        members = filterset.results.values("pk")
        return LiaisonLink.objects.visible_to(filterset.user).active().filter(member__in=members)

    @classmethod
    def revealable(cls, user, queryset) -> bool:
        """A link row carries its member's personal data: revealable when every member is."""
        members = PartyMember.objects.filter(pk__in=queryset.values("member_id"))
        return not members.exclude(pk__in=PartyMember.objects.visible_to(user, "reveal").values("pk")).exists()
    columns = (
        Column("code", "户编号", ("户号",), required=True, width=19, text_format=True),
        Column("address", "住址", ("地址", "家庭住址"), width=26, note="仅供核对，导入时不使用"),
        Column("branch", "支部", ("党支部", "所属支部"), width=12, options="branch", note="按姓名找党员时使用；留空为该户所在支部"),
        Column("member_name", "党员姓名", ("联系党员", "联系党员姓名", "党员"), width=10),
        Column("member_id_number", "党员身份证号", ("联系党员身份证号",), width=21, text_format=True,
               note="填写后按身份证号找党员；留空则按支部 + 党员姓名查找（须唯一）"),
        Column("started_on", "开始日期", ("联系开始日期", "起始日期"), width=12, note="留空为今天；不能晚于今天"),
    )
    required_for_new = ("code", "member_name")
    instructions = (
        "一行一户：该户由哪名党员联系。户已由其他党员联系的，改由本表中的党员联系（原联系关系结束，历史保留）。",
        "党员必须是本户所在支部、状态为“联户”的党员，且联系户数不超过其可联系户数。",
        "同一文件导入两次，第二次不会有任何改动。导入只新增和调整联系，不解除表中没有的联系。",
        "文件中任何一行有错误时，整个文件都不会导入；请下载问题清单，按“错误说明”列修改后重新上传。",
    )

    def options(self) -> dict[str, list[str]]:
        return {"branch": [b.name for b in self.branches().order_by("code")]}

    def validate(self, table: Table, progress=None, *, for_update: bool = False) -> Outcome:
        outcome = Outcome(kind=self.kind, rows=len(table.rows))

        def problem(row: int, key: str, message: str, level: str = "error") -> None:
            outcome.problems.append(table.problem(row, key, message, level))

        drafts = self._read_rows(table, problem, progress)
        outcome.rows = len(table.rows)  # exact once the rows have been read
        if progress:
            progress(len(table.rows), len(table.rows), "核对已有数据")
        households = {}
        for part in xlsx.chunks([d.code for d in drafts]):
            for row in self.households().filter(code__in=part).values("id", "code", "branch_id"):
                households[row["code"]] = row
        branches = list(self.branches())
        branch_by = {b.name: b.pk for b in branches} | {b.code: b.pk for b in branches}
        members = self.members()
        if for_update:
            # link_create locks the member: two imports must not both squeeze under one capacity.
            members = members.select_for_update(of=("self",))
        columns = ("id", "branch_id", "name", "status", "capacity", "id_number_hash", "id_number_masked")
        branch_ids = {h["branch_id"] for h in households.values()} | {branch_by[d.branch] for d in drafts
                                                                     if d.branch in branch_by}
        by_hash, by_name, by_id = {}, defaultdict(list), {}
        for row in members.filter(branch_id__in=branch_ids).values(*columns):
            by_id[row["id"]] = row
            if row["id_number_hash"]:
                by_hash[row["id_number_hash"]] = row
            by_name[row["branch_id"], row["name"]].append(row)
        # A member named by ID number may be of another branch (in scope): found, to be told so.
        elsewhere = {id_number_hash(d.member_id.value) for d in drafts if d.member_id is not None} - set(by_hash)
        if elsewhere:
            for row in with_id_hash_in(members, elsewhere).values(*columns):
                by_id[row["id"]] = by_hash[row["id_number_hash"]] = row
        branch_names = {b.pk: b.name for b in branches}
        current = {}
        for part in xlsx.chunks([h["id"] for h in households.values()]):
            for row in LiaisonLink.objects.active().filter(household_id__in=part).values(
                    "id", "household_id", "member_id", "started_on"):
                current[row["household_id"]] = row
        loads = Counter(dict(LiaisonLink.objects.active().filter(member_id__in=list(by_id)).values("member_id")
                             .annotate(n=Count("id")).values_list("member_id", "n")))

        today = timezone.localdate()
        seen: dict[str, int] = {}
        for d in drafts:
            h = households.get(d.code)
            if h is None:
                problem(d.row, "code", f"户编号 {d.code} 不存在（或不在您的管理范围内）")
                continue
            if d.code in seen:
                problem(d.row, "code", f"该户在第 {seen[d.code]} 行已出现：一户只能由一名党员联系")
                continue
            seen[d.code] = d.row
            branch_id = h["branch_id"]
            if d.branch:
                if d.branch not in branch_by:
                    problem(d.row, "branch", f"支部“{d.branch}”不存在（或不在您的管理范围内）")
                    continue
                branch_id = branch_by[d.branch]
            member = self._find_member(d, branch_id, by_hash, by_name, problem)
            if member is None:
                continue
            refusal = (rules.inactive_member(member["name"], member["status"])
                       or rules.other_branch(member["name"], member["branch_id"], h["branch_id"],
                                             branch_names=branch_names))
            if refusal:
                problem(d.row, "member_name", refusal)
                continue
            d.household, d.member, d.current = h, member, current.get(h["id"])
            if d.current is not None and d.current["member_id"] == member["id"]:
                if d.started_on and d.started_on != d.current["started_on"]:
                    problem(d.row, "started_on",
                            f"该联系开始于 {d.current['started_on']:%Y-%m-%d}，与表中日期不同；已有的联系不作修改", "warning")
                continue
            start = d.started_on or today
            if start > today:
                problem(d.row, "started_on", "开始日期不能晚于今天")
                d.member = None
                continue
            if d.current is not None and start < d.current["started_on"]:
                problem(d.row, "started_on",
                        f"开始日期早于该户现有联系的开始日期（{d.current['started_on']:%Y-%m-%d}）")
                d.member = None
                continue
            d.started_on = start

        # Capacity, as link_create counts it, after every move in the file: households a member gives
        # up free his places before the file's new ones are counted, in the order of the rows.
        moves = [d for d in drafts if d.member is not None and not self._unchanged(d)]
        for d in moves:
            if d.current is not None:
                loads[d.current["member_id"]] -= 1
        ok = []
        for d in moves:
            m = d.member
            refusal = rules.no_room(m["name"], loads[m["id"]], m["capacity"], counting="（含本表安排的）")
            if refusal:
                problem(d.row, "member_name", refusal)
                continue
            loads[m["id"]] += 1
            ok.append(d)
        plan = {"new": ok, "ended": [d for d in ok if d.current is not None]}
        for d in drafts:
            if d.member is not None and self._unchanged(d):
                outcome.count("联系关系", "unchanged")
        outcome.count("联系关系", "created", len(ok))
        outcome.count("联系关系", "ended", len(plan["ended"]))
        outcome.list_updates(
            xlsx.Update(d.row, f"户 {d.code}", f"改由党员{d.member['name']}联系"
                        + (f"（原为{by_id[d.current['member_id']]['name']}）" if d.current["member_id"] in by_id else ""))
            for d in plan["ended"])
        if plan["ended"]:
            outcome.notes.append(f"{len(plan['ended'])} 户改由新的党员联系，原联系关系结束（历史保留）")
        outcome.problems.sort(key=lambda p: (p.row, p.letter))
        outcome.plan = plan
        return outcome

    @staticmethod
    def _unchanged(d: LinkDraft) -> bool:
        return d.current is not None and d.current["member_id"] == d.member["id"]

    @staticmethod
    def _find_member(d: LinkDraft, branch_id: int, by_hash, by_name, problem) -> dict | None:
        if d.member_id is not None:
            member = by_hash.get(id_number_hash(d.member_id.value))
            if member is None:
                problem(d.row, "member_id_number", "没有这个身份证号的党员（或不在您的管理范围内）")
                return None
            if d.member_name and d.member_name != member["name"]:
                problem(d.row, "member_name", f"党员身份证号登记的是{member['name']}，与姓名“{d.member_name}”不符")
                return None
            return member
        if not d.member_name:
            problem(d.row, "member_name", "请填写党员姓名或党员身份证号")
            return None
        same = by_name.get((branch_id, d.member_name), [])
        if d.member_masked:
            same = [m for m in same if m["id_number_masked"] == d.member_masked]
        if not same:
            problem(d.row, "member_name", f"党员“{d.member_name}”不存在（或不在您的管理范围内）")
            return None
        if len(same) > 1:
            problem(d.row, "member_name", f"支部中有 {len(same)} 位名叫{d.member_name}的党员，请填写党员身份证号")
            return None
        return same[0]

    def _read_rows(self, table: Table, problem, progress) -> list[LinkDraft]:
        get = {k: table.getter(k) for k in ("code", "branch", "member_name", "member_id_number", "started_on")}
        code = Memo(lambda v: xlsx.code(v, "户编号"))
        started = Memo(xlsx.date)
        drafts = []
        for n, cells in table.rows:
            bad = False
            values = {}
            for key, normalise in (("code", code), ("branch", xlsx.compact), ("member_name", xlsx.compact),
                                   ("started_on", started)):
                try:
                    values[key] = normalise(get[key](cells))
                except CellError as e:
                    problem(n, key, str(e))
                    bad = True
            member_id, masked = None, ""
            raw_id = get["member_id_number"](cells)
            if isinstance(raw_id, str) and "*" in raw_id:
                masked = xlsx.compact(raw_id)  # a shared export: find the member by name, check the visible digits
            else:
                try:
                    member_id = xlsx.id_number(raw_id)
                except CellError as e:
                    problem(n, "member_id_number", str(e))
                    bad = True
            if not bad and not values["code"]:
                problem(n, "code", "户编号不能为空")
                bad = True
            if not bad:
                drafts.append(LinkDraft(row=n, code=values["code"], branch=values["branch"],
                                        member_name=values["member_name"], member_id=member_id, member_masked=masked,
                                        started_on=values["started_on"]))
        return drafts

    def apply(self, outcome: Outcome, progress=None) -> None:
        plan = outcome.plan
        user_id = self.user.pk if self.user is not None else None
        # End the old links first: the partial unique index allows one active link per household.
        bulk.update_rows(LiaisonLink, ("ended_on", "end_reason", "ended_by_id"),
                         ((d.current["id"], d.started_on, EndReason.REASSIGNED, user_id) for d in plan["ended"]))
        bulk.insert_rows(LiaisonLink, ("member_id", "household_id", "started_on", "ended_on", "end_reason",
                                       "created_by_id", "ended_by_id"),
                         ((d.member["id"], d.household["id"], d.started_on, None, "", user_id, None)
                          for d in plan["new"]))

    def export_queryset(self):
        return self.scoped(LiaisonLink, "household__branch__office").filter(ended_on__isnull=True)

    def export_rows(self, queryset, *, masked: bool):
        rows = queryset.order_by("household__code").values_list(
            "household__code", "household__address", "household__branch__name", "member__name",
            "member__id_number_cipher", "member__id_number_masked", "started_on")
        for code, address, branch, name, id_cipher, id_masked, started_on in rows:
            yield [code, address, branch, name, id_masked if masked else crypto.decrypt(id_cipher), started_on]
