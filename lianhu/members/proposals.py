"""Link proposals (联系方案): read an office or a branch, solve, store the proposal; apply it all or nothing.

Coordinates. Households and members store WGS84 longitude/latitude. For the solver they are projected
to metres with a local equirectangular projection about the office's centroid (the mean position of its
households): x = R·cos(φ0)·(λ - λ0), y = R·(φ - φ0), R = 6,371,008.8 m. Over an office (a few
kilometres) its distances are within about 0.1% of great-circle ones. The whole office uses one
origin, so a branch proposal measures walks exactly as an office proposal does.

Without coordinates (household or member), a walk cannot be measured: the solver then counts 0 when
the member lives in the household's grid and a large penalty otherwise, so the household is still
placed within its branch, preferably with a member of its grid. The proposal says so next to it.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Avg
from django.utils import timezone

from lianhu.audit.services import audit_log
from lianhu.org.models import Branch, Household, Office

from . import solver
from .models import LiaisonLink, LinkProposal, MemberStatus, PartyMember, ProposalStatus
from .services import links_assign_bulk

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DEFAULT_REBALANCE_MARGIN = 100  # metres a household's walk must shrink by before it changes member
STALE_MESSAGE = "生成方案之后，联系关系已有变动，该方案已过期，未做任何修改。请重新生成联系方案。"


def project(lng, lat, *, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (degrees) to metres east/north of `origin`; NaN stays NaN."""
    lng0, lat0 = origin
    lng = np.asarray(lng, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x = EARTH_RADIUS_M * np.cos(np.radians(lat0)) * np.radians(lng - lng0)
    y = EARTH_RADIUS_M * np.radians(lat - lat0)
    return x, y


def links_fingerprint(*, office: Office, branch: Branch | None = None) -> str:
    """A hash of the active links in scope; it changes whenever a link in scope starts or ends."""
    links = LiaisonLink.objects.active().filter(household__branch__office=office)
    if branch is not None:
        links = links.filter(household__branch=branch)
    return _fingerprint(links.order_by("id").values_list("id", "household_id", "member_id"))


def _fingerprint(rows) -> str:
    digest = hashlib.sha256()
    for link_id, household_id, member_id in sorted(rows):
        digest.update(f"{link_id}:{household_id}:{member_id};".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Creating a proposal.


@dataclass
class _Scope:
    households: list[tuple]  # (id, branch_id, grid_id, lng, lat, code, address)
    links: list[tuple]  # (link id, household id, member id)
    members: dict[int, tuple]  # id -> (branch_id, grid_id, lng, lat, capacity, name, active)
    branches: dict[int, str]
    origin: tuple[float, float]


def proposal_create(*, office: Office, actor, branch: Branch | None = None, rebalance_margin: int | None = None,
                    ip: str | None = None, progress: Callable[[int], object] | None = None) -> LinkProposal:
    """Work out and store a proposal for every unlinked household of the office (or branch).

    With `rebalance_margin` (metres) linked households take part too and move only when that
    shortens their walk by more than the margin. Nothing changes until the proposal is applied.
    """
    if branch is not None and branch.office_id != office.pk:
        raise ValidationError("支部不属于该办事处")
    if rebalance_margin is not None and rebalance_margin < 0:
        raise ValidationError({"margin": "调整阈值不能为负数"})
    scope = _read(office, branch)
    started = time.perf_counter()
    problem, member_ids = _problem(scope)
    solution = solver.solve(problem, rebalance_margin=rebalance_margin, processes=1, progress=progress)
    seconds = time.perf_counter() - started
    summary, changes = _summarise(scope, problem, member_ids, solution, rebalance_margin)
    summary["totals"]["seconds"] = round(seconds, 3)
    summary["solver"] = solution.stats.__dict__
    with transaction.atomic():
        proposal = LinkProposal.objects.create(
            office=office, branch=branch, rebalance_margin=rebalance_margin, summary=summary, changes=changes,
            links_fingerprint=_fingerprint(scope.links),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_log(actor=actor, action="create", obj=proposal, ip=ip,
                  detail={"changes": len(changes), "unplaced": summary["totals"]["unplaced"],
                          "rebalance_margin": rebalance_margin})
    return proposal


def _read(office: Office, branch: Branch | None) -> _Scope:
    households = Household.objects.filter(branch__office=office).order_by()
    links = LiaisonLink.objects.active().filter(household__branch__office=office).order_by()
    members = PartyMember.objects.filter(branch__office=office).order_by()
    branches = Branch.objects.filter(office=office).order_by()
    if branch is not None:
        households = households.filter(branch=branch)
        links = links.filter(household__branch=branch)
        members = members.filter(branch=branch)
        branches = branches.filter(pk=branch.pk)
    link_rows = list(links.values_list("id", "household_id", "member_id"))
    holders = {member_id for _, _, member_id in link_rows}
    # Active members are offered; a member who is not (exempt, left) but still holds links is read only
    # to show what he holds.
    member_rows = members.filter(status=MemberStatus.ACTIVE) | PartyMember.objects.filter(pk__in=holders)
    centre = Household.objects.filter(branch__office=office, lng__isnull=False, lat__isnull=False).aggregate(
        lng=Avg("lng"), lat=Avg("lat"))
    return _Scope(
        households=list(households.order_by("id").values_list("id", "branch_id", "grid_id", "lng", "lat", "code",
                                                              "address")),
        links=link_rows,
        members={
            pk: (branch_id, grid_id, lng, lat, capacity, name, status == MemberStatus.ACTIVE)
            for pk, branch_id, grid_id, lng, lat, capacity, name, status in member_rows.order_by("id").values_list(
                "id", "branch_id", "grid_id", "lng", "lat", "capacity", "name", "status")
        },
        branches=dict(branches.values_list("id", "name")),
        origin=(centre["lng"] or 0.0, centre["lat"] or 0.0),
    )


def _problem(scope: _Scope) -> tuple[solver.Problem, list[int]]:
    """Solver arrays; members are the active ones, in `member_ids` order."""
    member_ids = [pk for pk, row in scope.members.items() if row[6]]
    position = {pk: i for i, pk in enumerate(member_ids)}
    current = {household_id: member_id for _, household_id, member_id in scope.links}
    h = scope.households
    hx, hy = project([_nan(r[3]) for r in h], [_nan(r[4]) for r in h], origin=scope.origin)
    m = [scope.members[pk] for pk in member_ids]
    mx, my = project([_nan(r[2]) for r in m], [_nan(r[3]) for r in m], origin=scope.origin)
    problem = solver.Problem(
        household_branch=np.array([r[1] for r in h], dtype=np.int64),
        household_xy=np.column_stack([hx, hy]).reshape(len(h), 2),
        household_member=np.array([position.get(current.get(r[0]), solver.NO_MEMBER) for r in h], dtype=np.int64),
        household_group=np.array([r[2] for r in h], dtype=np.int64),
        member_branch=np.array([r[0] for r in m], dtype=np.int64),
        member_xy=np.column_stack([mx, my]).reshape(len(m), 2),
        member_capacity=np.array([r[4] for r in m], dtype=np.int64),
        member_group=np.array([-1 if r[1] is None else r[1] for r in m], dtype=np.int64),
    )
    return problem, member_ids


def _nan(value) -> float:
    return np.nan if value is None else value


def _summarise(scope: _Scope, problem: solver.Problem, member_ids: list[int], solution: solver.Solution,
               margin: int | None) -> tuple[dict, list[dict]]:
    """Per member and per branch before/after figures, the list of changes and the unplaced households."""
    current = {household_id: member_id for _, household_id, member_id in scope.links}
    member_xy = {pk: _point(scope.members[pk][2], scope.members[pk][3], scope.origin) for pk in scope.members}

    def walk(i: int, member_id: int | None) -> int | None:
        if member_id is None:
            return None
        hx, hy = problem.household_xy[i]
        mx, my = member_xy[member_id]
        if np.isnan(hx) or np.isnan(mx):
            return None  # not measurable: placed by grid instead
        return int(np.floor(np.hypot(hx - mx, hy - my) + 0.5))

    before: dict[int, list[int | None]] = defaultdict(list)
    after: dict[int, list[int | None]] = defaultdict(list)
    changes, unplaced = [], []
    branch_rows = {pk: {"id": pk, "name": name, "households": 0, "unlinked": 0, "placed": 0, "unplaced": 0}
                   for pk, name in scope.branches.items()}
    for i, (pk, branch_id, _grid, _lng, _lat, code, address) in enumerate(scope.households):
        old = current.get(pk)
        chosen = int(solution.assignment[i])
        new = member_ids[chosen] if chosen != solver.NO_MEMBER else old
        row = branch_rows[branch_id]
        row["households"] += 1
        needs_member = old is None or not scope.members[old][6]
        row["unlinked"] += needs_member
        if old is not None:
            before[old].append(walk(i, old))
        if needs_member and chosen == solver.NO_MEMBER:
            row["unplaced"] += 1
            unplaced.append({"household": pk, "code": code, "address": address, "branch": branch_id})
        elif needs_member:
            row["placed"] += 1
        if new is None:
            continue
        after[new].append(walk(i, new))
        if new != old:
            changes.append({
                "household": pk, "code": code, "address": address, "branch": branch_id,
                "from": old, "from_name": scope.members[old][5] if old is not None else "",
                "to": new, "to_name": scope.members[new][5],
                "walk_before": walk(i, old), "walk_after": walk(i, new),
            })
    load = defaultdict(int)
    for member_id in current.values():
        load[member_id] += 1
    for pk in member_ids:
        branch_id, capacity = scope.members[pk][0], scope.members[pk][4]
        if branch_id in branch_rows:
            branch_rows[branch_id]["free"] = branch_rows[branch_id].get("free", 0) + max(0, capacity - load[pk])
    for row in branch_rows.values():
        row.setdefault("free", 0)
        row["missing"] = row["unplaced"]  # every unlinked household may take any member of its branch
    members = []
    for pk in sorted(set(before) | set(after) | set(member_ids), key=lambda pk: (scope.members[pk][0], pk)):
        branch_id, _grid, _lng, _lat, capacity, name, active = scope.members[pk]
        b, a = _walks(before.get(pk, [])), _walks(after.get(pk, []))
        members.append({"id": pk, "name": name, "branch": branch_id, "branch_name": scope.branches.get(branch_id, ""),
                        "capacity": capacity if active else None, "before": b, "after": a, "changed": b != a})
    changes.sort(key=lambda c: (scope.branches.get(c["branch"], ""), c["code"]))
    total_before = _walks([w for ws in before.values() for w in ws])
    total_after = _walks([w for ws in after.values() for w in ws])
    summary = {
        "projection": {"lng": scope.origin[0], "lat": scope.origin[1]},
        "members": members,
        "branches": sorted(branch_rows.values(), key=lambda r: r["name"]),
        "unplaced": unplaced,
        "totals": {
            "households": len(scope.households),
            "households_in_solve": len(scope.households) if margin is not None
            else sum(r["unlinked"] for r in branch_rows.values()),
            "changes": len(changes),
            "new_links": sum(1 for c in changes if c["from"] is None),
            "moves": sum(1 for c in changes if c["from"] is not None),
            "unplaced": len(unplaced),
            "missing": sum(r["missing"] for r in branch_rows.values()),
            "no_coordinates": sum(1 for c in changes if c["walk_after"] is None),
            "walk_before": total_before["total"], "walk_after": total_after["total"],
        },
    }
    return summary, changes


def _point(lng, lat, origin) -> tuple[float, float]:
    x, y = project([_nan(lng)], [_nan(lat)], origin=origin)
    return float(x[0]), float(y[0])


def _walks(walks: list[int | None]) -> dict:
    """Households, and total and longest walk over those whose walk can be measured."""
    known = [w for w in walks if w is not None]
    return {"households": len(walks), "total": sum(known), "longest": max(known, default=0),
            "unmeasured": len(walks) - len(known)}


# ---------------------------------------------------------------------------------------------
# Applying or discarding it.


class _Stale(Exception):
    pass


def proposal_is_current(proposal: LinkProposal) -> bool:
    """Whether the links in the proposal's scope are still those it was computed from."""
    return links_fingerprint(office=proposal.office, branch=proposal.branch) == proposal.links_fingerprint


def proposal_apply(*, proposal: LinkProposal, actor, ip: str | None = None) -> int:
    """Apply every change of a draft proposal in one transaction, all or nothing; return how many.

    A proposal computed from links that have changed since is refused (and marked stale): applying
    it could undo someone else's decision or no longer be the best plan.
    """
    try:
        with transaction.atomic():
            locked = LinkProposal.objects.select_for_update().get(pk=proposal.pk)
            if locked.status != ProposalStatus.DRAFT:
                raise ValidationError("该方案%s，不能再应用" % locked.get_status_display())
            count = _apply_changes(locked, actor=actor, ip=ip)
            locked.status = ProposalStatus.APPLIED
            locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
            locked.decided_at = timezone.now()
            locked.save(update_fields=["status", "decided_by", "decided_at"])
            audit_log(actor=actor, action="update", obj=locked, ip=ip,
                      detail={"applied": True, "changes": count})
    except _Stale:
        LinkProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.DRAFT).update(status=ProposalStatus.STALE)
        proposal.status = ProposalStatus.STALE
        raise ValidationError(STALE_MESSAGE) from None
    except OperationalError:
        # PostgreSQL breaks a lock cycle with a concurrent link by failing one side; nothing was written.
        raise ValidationError("其他人正在调整联系关系，方案未应用，请稍后重试。") from None
    proposal.status = ProposalStatus.APPLIED
    return count


def _apply_changes(proposal: LinkProposal, *, actor, ip) -> int:
    changes = proposal.changes
    household_ids = sorted({c["household"] for c in changes})
    # Lock the households first: a concurrent link of one of them waits for us, or is seen below.
    households = Household.objects.select_for_update().filter(pk__in=household_ids).order_by("pk").in_bulk()
    if links_fingerprint(office=proposal.office, branch=proposal.branch) != proposal.links_fingerprint:
        raise _Stale
    links = {link.household_id: link for link in LiaisonLink.objects.active().filter(household_id__in=household_ids)}
    if len(households) != len(household_ids) or any(
        (links[c["household"]].member_id if c["household"] in links else None) != c["from"] for c in changes
    ):
        raise _Stale
    # Checked on the final state, so swaps between two full members need no ordering.
    return links_assign_bulk(assignments={c["household"]: c["to"] for c in changes}, actor=actor, ip=ip,
                             office_id=proposal.office_id)


def proposal_discard(*, proposal: LinkProposal, actor, ip: str | None = None) -> LinkProposal:
    """Set a proposal aside without changing any link."""
    with transaction.atomic():
        locked = LinkProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status not in (ProposalStatus.DRAFT, ProposalStatus.STALE):
            raise ValidationError("该方案%s，不能放弃" % locked.get_status_display())
        locked.status = ProposalStatus.DISCARDED
        locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit_log(actor=actor, action="update", obj=locked, ip=ip, detail={"discarded": True})
    return locked
