"""Household-to-member assignment as a min-cost flow, solved branch by branch. Pure: numpy and OR-Tools, no Django.

Each branch is a transportation problem: households send one unit each to members of the same branch,
a member takes at most his capacity, and a link costs the walk between them in whole metres. Branches
share nothing, so they are solved separately (and on several processes for a city).

Sparse arcs, exact result. A branch is first solved with each household's `candidates` cheapest
members only. That optimum is then proved for the full branch: node potentials are computed from the
solved flow by shortest paths on its residual graph (members, source and sink collapse it to a graph of
a few dozen nodes), and every left-out arc is priced against them. A left-out arc with a negative
reduced cost could lower the cost: those arcs are added and the branch is solved again, until no such
arc is left. If the candidate arcs cannot carry the flow at all, the branch is solved on all its arcs.

Modes. Without a rebalance margin, current links are kept as they are: they use up their member's
capacity and only unlinked households are placed. With a margin M (metres), linked households take
part too, under two rules that keep links stable: a household may move only to a member who shortens
its own walk by more than M, and its current link costs its walk minus M, so a move must also shorten
the branch's total walk by more than M. Linked households are never left without a member.

Capacity. When a branch has fewer free places than households to place, the flow carries exactly as
many households as there are places (so the rest are still placed optimally) and the households that
would cost most stay unplaced.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

NO_MEMBER = -1
CANDIDATES = 12  # cheapest members per household in the first, sparse solve (bench/bench_solver.py)
NO_COORDINATES_PENALTY = 1_000_000  # metres charged when a walk cannot be measured and the grids differ
_FORBIDDEN = 1 << 40  # cost marking a link that is not allowed (never given to the solver)
_UNREACHED = 1 << 60


class ProblemError(ValueError):
    """The input cannot be solved as given (wrong shapes, negative capacity or margin, bad ids)."""


@dataclass
class Problem:
    """One row per household and per member; coordinates in metres, NaN where unknown."""

    household_branch: np.ndarray  # int branch key
    household_xy: np.ndarray  # float (n, 2)
    household_member: np.ndarray  # int index into the members, NO_MEMBER when unlinked
    member_branch: np.ndarray
    member_xy: np.ndarray
    member_capacity: np.ndarray
    # Used only where a walk cannot be measured: same group (grid) costs 0, another costs the penalty.
    household_group: np.ndarray | None = None  # int, negative for none
    member_group: np.ndarray | None = None


@dataclass
class SolveStats:
    branches: int = 0
    arcs: int = 0  # household-to-member arcs given to the solver, summed over every solve
    solves: int = 0
    resolved_branches: int = 0  # branches solved again because a left-out arc could lower the cost
    added_arcs: int = 0
    all_arc_fallbacks: int = 0  # branches whose candidate arcs could not carry the flow

    def add(self, other: SolveStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Solution:
    assignment: np.ndarray  # member index per household, NO_MEMBER when unplaced
    cost: np.ndarray  # cost of each household's link in metres (0 when unplaced)
    stats: SolveStats = field(default_factory=SolveStats)

    @property
    def total_cost(self) -> int:
        return int(self.cost.sum())

    @property
    def unplaced(self) -> np.ndarray:
        return np.flatnonzero(self.assignment == NO_MEMBER)


Progress = Callable[[int], object]


def solve(problem: Problem, *, rebalance_margin: float | None = None, candidates: int | None = CANDIDATES,
          processes: int = 1, progress: Progress | None = None) -> Solution:
    """The cheapest assignment of every household to a member of its branch; `candidates=None` uses all arcs."""
    margin = _margin(rebalance_margin)
    work = _Work(problem, margin, candidates)
    assignment, cost, stats = _run(work, work.chunks(processes), processes, progress)
    return Solution(assignment=assignment, cost=cost, stats=stats)


def link_costs(household_xy: np.ndarray, member_xy: np.ndarray, household_group: np.ndarray | None = None,
               member_group: np.ndarray | None = None) -> np.ndarray:
    """Cost of every household-member pair: walk rounded to whole metres, or the grid fallback."""
    dx = np.subtract.outer(household_xy[:, 0], member_xy[:, 0])
    dy = np.subtract.outer(household_xy[:, 1], member_xy[:, 1])
    # In place: this runs for every pair of every branch, and it is a large part of the time.
    dx *= dx
    dy *= dy
    dx += dy
    np.sqrt(dx, out=dx)
    dx += 0.5  # half a metre rounds up
    np.floor(dx, out=dx)
    unknown = np.isnan(dx)
    if unknown.any():
        hg = household_group if household_group is not None else np.full(len(household_xy), -1)
        mg = member_group if member_group is not None else np.full(len(member_xy), -1)
        same = (hg[:, None] == mg[None, :]) & (hg[:, None] >= 0)
        dx[unknown] = np.where(same, 0, NO_COORDINATES_PENALTY)[unknown]
    return dx.astype(np.int64)


def solve_branch(costs: np.ndarray, current: np.ndarray, capacity: np.ndarray, *, margin: int | None,
                 candidates: int | None = CANDIDATES) -> tuple[np.ndarray, SolveStats]:
    """One branch: `costs` households x members, `current` member per household (or NO_MEMBER)."""
    n_households, n_members = costs.shape
    stats = SolveStats(branches=1)
    assignment = np.full(n_households, NO_MEMBER, dtype=np.int64)
    if n_households == 0:
        return assignment, stats
    linked = current >= 0
    load = np.bincount(current[linked], minlength=n_members)
    # A member whose capacity was lowered below his load keeps his households.
    capacity = np.maximum(capacity.astype(np.int64), load)
    if margin is None:
        # Current links stay; they use up places and only unlinked households are placed.
        assignment[linked] = current[linked]
        rows = np.flatnonzero(~linked)
        flow_costs = costs[rows]
        must = np.zeros(len(rows), dtype=bool)
        places = capacity - load
        keep = None
    else:
        rows = np.arange(n_households)
        flow_costs = costs.copy()
        held = np.flatnonzero(linked)
        walk_now = costs[held, current[held]]
        # A linked household may move only to a member who shortens its own walk by more than the margin,
        moves = flow_costs[held]
        moves[moves >= (walk_now - margin)[:, None]] = _FORBIDDEN
        flow_costs[held] = moves
        # and keeping its member earns the margin, so a move must also shorten the total by more than it.
        flow_costs[held, current[held]] = walk_now - margin
        must = linked
        places = capacity
        keep = np.full(n_households, NO_MEMBER, dtype=np.int64)
        keep[held] = current[held]
    if len(rows):
        placed = _solve_flow(flow_costs, must, places, candidates, keep, stats)
        assignment[rows] = placed
    return assignment, stats


def _solve_flow(costs: np.ndarray, must: np.ndarray, places: np.ndarray, candidates: int | None,
                keep: np.ndarray | None, stats: SolveStats) -> np.ndarray:
    n_households, n_members = costs.shape
    allowed = costs < _FORBIDDEN
    flexible = int((~must).sum())
    carried = min(flexible, int(places.sum()) - int(must.sum()))  # flexible households that get a place
    uses_source = carried < flexible
    if n_members == 0 or (carried == 0 and not must.any()):
        return np.full(n_households, NO_MEMBER, dtype=np.int64)
    if candidates is None or candidates >= n_members:
        arcs = allowed
    else:
        arcs = _candidate_arcs(costs, candidates, keep)
        arcs &= allowed
    resolved = False
    while True:
        hs, ms = np.nonzero(arcs)
        assignment = _min_cost_flow(costs, hs, ms, must, places, carried, stats)
        if assignment is None:
            if arcs is allowed:
                raise RuntimeError("a branch cannot be solved even on all its arcs")
            arcs = allowed  # the candidate arcs cannot carry the flow: solve the branch on all of them
            stats.all_arc_fallbacks += 1
            continue
        if arcs is allowed:
            return assignment
        better = _arcs_that_lower_the_cost(costs, hs, ms, arcs, allowed, assignment, must, places,
                                           uses_source=uses_source)
        if better is None:
            return assignment
        if not resolved:
            stats.resolved_branches += 1
            resolved = True
        stats.added_arcs += int(better.sum())
        arcs = arcs | better


def _candidate_arcs(costs, candidates, keep) -> np.ndarray:
    """Each household's `candidates` cheapest members (and a linked household's own member)."""
    n_households = len(costs)
    arcs = np.zeros(costs.shape, dtype=bool)
    nearest = np.argpartition(costs, candidates - 1, axis=1)[:, :candidates]
    arcs[np.arange(n_households)[:, None], nearest] = True
    if keep is not None:  # a linked household can always stay where it is
        held = np.flatnonzero(keep >= 0)
        arcs[held, keep[held]] = True
    return arcs


def _min_cost_flow(costs, hs, ms, must, places, carried, stats) -> np.ndarray | None:
    """The optimum on arcs (hs, ms), or None when they cannot carry the flow.

    Nodes: households 0..h-1, members h..h+m-1, then source and sink.
    """
    n_households, n_members = costs.shape
    source, sink = n_households + n_members, n_households + n_members + 1
    tails = [hs, n_households + np.arange(n_members)]
    heads = [n_households + ms, np.full(n_members, sink)]
    capacities = [np.ones(len(hs), dtype=np.int64), places.astype(np.int64)]
    unit_costs = [costs[hs, ms], np.zeros(n_members, dtype=np.int64)]
    supplies = np.zeros(n_households + n_members + 2, dtype=np.int64)
    flexible = np.flatnonzero(~must)
    if carried < len(flexible):
        # Not every household fits: the source hands out exactly `carried` places among the flexible
        # ones, so the rest are still placed optimally without choosing a big cost for "unplaced".
        tails.append(np.full(len(flexible), source))
        heads.append(flexible)
        capacities.append(np.ones(len(flexible), dtype=np.int64))
        unit_costs.append(np.zeros(len(flexible), dtype=np.int64))
        supplies[:n_households][must] = 1
        supplies[source] = carried
    else:
        supplies[:n_households] = 1
    supplies[sink] = -(int(must.sum()) + carried)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities), np.concatenate(unit_costs)
    )
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = flow.solve()
    stats.solves += 1
    stats.arcs += len(hs)
    if status == flow.INFEASIBLE:
        return None
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = flow.flows(np.arange(len(hs))) > 0
    assignment = np.full(n_households, NO_MEMBER, dtype=np.int64)
    assignment[hs[used]] = ms[used]
    return assignment


def _arcs_that_lower_the_cost(costs, hs, ms, arcs, allowed, assignment, must, places, *,
                              uses_source: bool) -> np.ndarray | None:
    """Left-out arcs with a negative reduced cost under potentials taken from the solved flow, or None.

    Potentials are shortest distances in the residual graph from a virtual root joined to every node
    at cost 0 (so all are <= 0). Every path between members runs member -> household (backwards along
    a used arc, minus its cost) -> member (forwards along an unused arc), or through the source (an
    unplaced household) or the sink (spare or used capacity). Collapsing households gives a graph on
    members + source + sink, where Bellman-Ford is a few dozen matrix steps. The solved flow is optimal
    for the arcs it had, so that graph has no negative cycle. If every left-out arc has a non-negative
    reduced cost, the same potentials prove the flow optimal for the whole branch (None is returned).
    """
    n_households, n_members = costs.shape
    size = n_members + 2
    source, sink = n_members, n_members + 1
    placed = assignment >= 0
    unused = assignment[hs] != ms
    h, m = hs[unused], ms[unused]
    c = costs[h, m]
    at = assignment[h]
    weight = np.full(size * size, _UNREACHED, dtype=np.int64)
    distance = np.zeros(size, dtype=np.int64)
    np.minimum.at(distance, m, c)  # root -> household -> member
    via = at >= 0
    np.minimum.at(weight, at[via] * size + m[via], c[via] - costs[h[via], at[via]])
    if uses_source:
        np.minimum.at(weight, source * size + m[~via], c[~via])  # source -> unplaced household -> member
        out = np.flatnonzero(placed & ~must)  # member -> placed household -> back to the source
        np.minimum.at(weight, assignment[out] * size + source, -costs[out, assignment[out]])
    load = np.bincount(assignment[placed], minlength=n_members)
    members = np.arange(n_members)
    weight[members[load < places] * size + sink] = 0
    weight[sink * size + members[load > 0]] = 0
    weight = weight.reshape(size, size)
    total = int(distance.sum())
    for _ in range(size + 1):
        np.minimum(distance, (distance[:, None] + weight).min(axis=0), out=distance)
        shorter = int(distance.sum())  # distances only ever shrink: an unchanged sum means a fixed point
        if shorter == total:
            break
        total = shorter
    else:
        raise RuntimeError("negative cycle in the residual graph: the flow was not optimal")
    potential = np.full(n_households, min(0, int(distance[source])), dtype=np.int64)
    rows = np.flatnonzero(placed)
    potential[rows] = np.minimum(0, distance[assignment[rows]] - costs[rows, assignment[rows]])
    reduced = costs + potential[:, None]
    reduced -= distance[None, :n_members]
    better = reduced < 0
    if not better.any():
        return None
    better &= allowed
    better &= ~arcs
    return better if better.any() else None


# ---------------------------------------------------------------------------------------------
# Many branches, on one or several processes.


def _margin(value: float | None) -> int | None:
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise ProblemError("rebalance_margin must be a non-negative number of metres")
    # Walks are whole metres, so "shorter by more than 50.5" is "shorter by more than 50".
    return int(math.floor(value))


class _Work:
    """The problem cut into branches: households and members of each, as index arrays."""

    def __init__(self, problem: Problem, margin: int | None, candidates: int | None):
        self.problem, self.margin, self.candidates = problem, margin, candidates
        n_households, n_members = len(problem.household_branch), len(problem.member_branch)
        for name, rows in (("household_xy", n_households), ("member_xy", n_members)):
            if getattr(problem, name).shape != (rows, 2):
                raise ProblemError(f"{name} must have shape ({rows}, 2)")
        if len(problem.household_member) != n_households or len(problem.member_capacity) != n_members:
            raise ProblemError("household_member and member_capacity need one entry per row")
        if n_members and problem.member_capacity.min() < 0:
            raise ProblemError("capacity cannot be negative")
        household_branch, member_branch, count = _dense_keys(problem.household_branch, problem.member_branch)
        self.household_order, self.household_bounds = _split_by(household_branch, count)
        self.member_order, self.member_bounds = _split_by(member_branch, count)
        # Each household's current member as a position among his branch's members (int32 keeps a city small).
        local = np.empty(n_members, dtype=np.int32)
        local[self.member_order] = np.arange(n_members, dtype=np.int32) - np.repeat(
            self.member_bounds[:-1], np.diff(self.member_bounds)).astype(np.int32)
        current = np.asarray(problem.household_member)
        valid = (current >= 0) & (current < n_members)
        valid[valid] = member_branch[current[valid]] == household_branch[valid]
        # A link to a member who is not offered (exempt, left) or of another branch counts as no link.
        self.current_local = np.full(n_households, NO_MEMBER, dtype=np.int32)
        self.current_local[valid] = local[current[valid]]

    def households_of(self, b: int) -> np.ndarray:
        return self.household_order[self.household_bounds[b]:self.household_bounds[b + 1]]

    def members_of(self, b: int) -> np.ndarray:
        return self.member_order[self.member_bounds[b]:self.member_bounds[b + 1]]

    def chunks(self, processes: int) -> list[list[int]]:
        sizes = np.diff(self.household_bounds)
        order = [int(b) for b in np.argsort(-sizes, kind="stable") if sizes[b]]
        if processes <= 1:
            return [[b] for b in order]  # one branch at a time: progress moves branch by branch
        # Many small chunks, each mixing big and small branches, so no process is left waiting at the end.
        count = max(1, min(len(order), processes * 16))
        return [order[i::count] for i in range(count)]

    def run_chunk(self, branches: list[int], assignment: np.ndarray, cost: np.ndarray) -> SolveStats:
        """Solve `branches`, writing each household's member and link cost into the output arrays."""
        p = self.problem
        stats = SolveStats()
        for b in branches:
            rows, members = self.households_of(b), self.members_of(b)
            costs = link_costs(
                p.household_xy[rows], p.member_xy[members],
                None if p.household_group is None else p.household_group[rows],
                None if p.member_group is None else p.member_group[members],
            )
            local, branch_stats = solve_branch(costs, self.current_local[rows].astype(np.int64),
                                               p.member_capacity[members], margin=self.margin,
                                               candidates=self.candidates)
            stats.add(branch_stats)
            placed = np.flatnonzero(local >= 0)
            assignment[rows] = NO_MEMBER
            assignment[rows[placed]] = members[local[placed]]
            cost[rows] = 0
            cost[rows[placed]] = costs[placed, local[placed]]
        return stats


def _dense_keys(household_branch: np.ndarray, member_branch: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Branch keys as 0..count-1; small non-negative integer keys are used as they are (no sort needed)."""
    keys = [k for k in (household_branch, member_branch) if len(k)]
    if not keys:
        return household_branch.astype(np.int64), member_branch.astype(np.int64), 0
    if all(np.issubdtype(k.dtype, np.integer) for k in keys):
        low, high = min(int(k.min()) for k in keys), max(int(k.max()) for k in keys)
        if low >= 0 and high < 4 * (len(household_branch) + len(member_branch)) + 1024:
            return household_branch, member_branch, high + 1
    unique, inverse = np.unique(np.concatenate([household_branch, member_branch]), return_inverse=True)
    return inverse[:len(household_branch)], inverse[len(household_branch):], len(unique)


def _split_by(keys: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(count + 1))
    return order.astype(np.int32 if len(keys) < 2**31 else np.int64), bounds


def _run(work: _Work, chunks: list[list[int]], processes: int,
         progress: Progress | None) -> tuple[np.ndarray, np.ndarray, SolveStats]:
    """Member and link cost of every household, solving chunks of branches on `processes` processes."""
    forked = processes > 1 and len(chunks) > 1
    n_households = len(work.problem.household_branch)
    assignment = _output(n_households, NO_MEMBER, shared=forked)
    cost = _output(n_households, 0, shared=forked)
    if not forked:
        stats = SolveStats()
        for chunk in chunks:
            chunk_stats = work.run_chunk(chunk, assignment, cost)
            stats.add(chunk_stats)
            if progress:
                progress(chunk_stats.branches)
        return assignment, cost, stats
    return assignment, cost, _run_forked(work, chunks, processes, assignment, cost, progress)


def _run_forked(work, chunks, processes, assignment, cost, progress) -> SolveStats:
    """The parent and `processes - 1` forked children take chunks from one counter until none are left.

    Forked children read the problem without copying it and write into the shared output arrays, so
    nothing large is pickled, and the parent works too (one interpreter fewer in memory).
    """
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    next_chunk = ctx.RawValue("l", 0)
    branches_done = ctx.RawValue("l", 0)

    def take() -> int:
        with lock:
            i = next_chunk.value
            next_chunk.value = i + 1
        return i

    def work_loop(report) -> SolveStats:
        own = SolveStats()
        while (i := take()) < len(chunks):
            chunk_stats = work.run_chunk(chunks[i], assignment, cost)
            own.add(chunk_stats)
            with lock:
                branches_done.value += chunk_stats.branches
            report()
        return own

    def child(conn) -> None:
        try:
            conn.send(("ok", work_loop(lambda: None)))
        except BaseException:
            conn.send(("error", traceback.format_exc()))
        finally:
            conn.close()

    children = []
    for _ in range(processes - 1):
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=child, args=(send,), daemon=True)
        process.start()
        send.close()
        children.append((process, receive))
    reported = 0

    def report() -> None:
        nonlocal reported
        if progress:
            done = branches_done.value
            progress(done - reported)
            reported = done

    stats = work_loop(report)
    errors = []
    for process, receive in children:
        try:
            kind, payload = receive.recv()
        except EOFError:
            kind, payload = "error", "a solver process ended without a result"
        process.join()
        if kind == "ok":
            stats.add(payload)
        else:
            errors.append(payload)
    if errors:
        raise RuntimeError("solver process failed:\n" + "\n".join(errors))
    report()
    return stats


def _output(size: int, fill: int, *, shared: bool) -> np.ndarray:
    """An int64 array; shared with forked children (an anonymous shared mapping) when asked."""
    if not shared:
        return np.full(size, fill, dtype=np.int64)
    array = np.frombuffer(mmap.mmap(-1, max(8, size * 8)), dtype=np.int64, count=size)
    array[:] = fill
    return array


# ---------------------------------------------------------------------------------------------
# The JSON format of `manage.py solve_links` (docs/solver-format.md).


def solve_json(data: dict, *, processes: int = 1, candidates: int | None = CANDIDATES) -> dict:
    """Solve the documented JSON input; return {"assignment", "unplaced", "cost"}."""
    if not isinstance(data, dict):
        raise ProblemError("the input must be a JSON object")
    households = _rows(data, "households")
    members = _rows(data, "members")
    member_ids = _ids(members, "members")
    household_ids = _ids(households, "households")
    branches: dict[str, int] = {}
    groups: dict[str, int] = {}

    def branch_key(row, kind):
        if row.get("branch") is None:
            raise ProblemError(f"{kind} {row['id']}: branch is required")
        return branches.setdefault(str(row["branch"]), len(branches))

    def group_key(row):
        return -1 if row.get("group") is None else groups.setdefault(str(row["group"]), len(groups))

    member_index = {mid: i for i, mid in enumerate(member_ids)}
    current = []
    for row in households:
        # A member who is not offered (exempt, left) counts as no link: the household is placed anew.
        mid = row.get("member")
        current.append(NO_MEMBER if mid is None else member_index.get(str(mid), NO_MEMBER))
    capacities = []
    for row, mid in zip(members, member_ids):
        capacity = row.get("capacity", 10)
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
            raise ProblemError(f"member {mid}: capacity must be a non-negative integer")
        capacities.append(capacity)
    margin = data.get("rebalance_margin")
    if margin is not None and (isinstance(margin, bool) or not isinstance(margin, int | float)):
        raise ProblemError("rebalance_margin must be null or a number of metres")
    problem = Problem(
        household_branch=np.array([branch_key(r, "household") for r in households], dtype=np.int64),
        household_xy=_xy(households, household_ids, "household"),
        household_member=np.array(current, dtype=np.int64),
        member_branch=np.array([branch_key(r, "member") for r in members], dtype=np.int64),
        member_xy=_xy(members, member_ids, "member"),
        member_capacity=np.array(capacities, dtype=np.int64),
        household_group=np.array([group_key(r) for r in households], dtype=np.int64),
        member_group=np.array([group_key(r) for r in members], dtype=np.int64),
    )
    solution = solve(problem, rebalance_margin=margin, processes=processes, candidates=candidates)
    assignment = {
        hid: member_ids[m] for hid, m in zip(household_ids, solution.assignment.tolist()) if m != NO_MEMBER
    }
    unplaced = [household_ids[i] for i in solution.unplaced.tolist()]
    return {"assignment": assignment, "unplaced": unplaced, "cost": solution.total_cost}


def _rows(data: dict, key: str) -> list[dict]:
    rows = data.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ProblemError(f"{key} must be a list of objects")
    return rows


def _ids(rows: list[dict], kind: str) -> list[str]:
    ids = []
    for row in rows:
        if row.get("id") is None:
            raise ProblemError(f"every entry of {kind} needs an id")
        ids.append(str(row["id"]))
    if len(set(ids)) != len(ids):
        raise ProblemError(f"ids in {kind} must be unique")
    return ids


def _xy(rows: list[dict], ids: list[str], kind: str) -> np.ndarray:
    xy = np.full((len(rows), 2), np.nan)
    for i, (row, rid) in enumerate(zip(rows, ids)):
        x, y = row.get("x"), row.get("y")
        if x is None or y is None:
            continue  # no coordinates: the grid ("group") decides
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, int | float) or not isinstance(y, int | float):
            raise ProblemError(f"{kind} {rid}: x and y must be numbers (metres) or null")
        xy[i] = (x, y)
    if not np.isfinite(xy[~np.isnan(xy)]).all():
        raise ProblemError(f"{kind} coordinates must be finite")
    return xy
