"""The assignment solver on small instances with known optima, against brute force, and its JSON format."""

import itertools

import numpy as np
import pytest

from lianhu.members import solver
from lianhu.members.solver import NO_MEMBER, Problem, ProblemError, solve, solve_json


def problem(households, members, groups=None):
    """households: (branch, x, y, member index or None); members: (branch, x, y, capacity)."""
    return Problem(
        household_branch=np.array([h[0] for h in households], dtype=np.int64),
        household_xy=np.array([(np.nan if h[1] is None else h[1], np.nan if h[2] is None else h[2])
                               for h in households], dtype=float).reshape(len(households), 2),
        household_member=np.array([NO_MEMBER if h[3] is None else h[3] for h in households], dtype=np.int64),
        member_branch=np.array([m[0] for m in members], dtype=np.int64),
        member_xy=np.array([(np.nan if m[1] is None else m[1], np.nan if m[2] is None else m[2]) for m in members],
                           dtype=float).reshape(len(members), 2),
        member_capacity=np.array([m[3] for m in members], dtype=np.int64),
        household_group=None if groups is None else np.array(groups[0], dtype=np.int64),
        member_group=None if groups is None else np.array(groups[1], dtype=np.int64),
    )


def test_it_finds_the_optimum_that_nearest_first_misses():
    # Taking households in order, A grabs the member at 0 and B walks 9 m: 13 m in all. Swapping gives 7 m.
    p = problem([(1, 4, 0, None), (1, 1, 0, None)], [(1, 0, 0, 1), (1, 10, 0, 1)])

    result = solve(p)

    assert result.assignment.tolist() == [1, 0]
    assert result.total_cost == 7


def test_it_keeps_households_within_their_branch():
    p = problem([(1, 0, 0, None), (2, 0, 0, None)], [(2, 1, 0, 5), (1, 500, 0, 5)])

    result = solve(p)

    assert result.assignment.tolist() == [1, 0]
    assert result.cost.tolist() == [500, 1]


def test_a_branch_short_of_places_places_what_it_can_and_leaves_the_farthest_out():
    p = problem([(1, 1, 0, None), (1, 900, 0, None), (1, 2, 0, None)], [(1, 0, 0, 2)])

    result = solve(p)

    assert result.assignment.tolist() == [0, NO_MEMBER, 0]
    assert result.unplaced.tolist() == [1]
    assert result.total_cost == 3


def test_a_branch_without_members_leaves_every_household_unplaced():
    result = solve(problem([(1, 0, 0, None), (1, 5, 0, None)], [(2, 0, 0, 10)]))

    assert result.assignment.tolist() == [NO_MEMBER, NO_MEMBER]


def test_without_a_margin_current_links_stay_and_use_up_capacity():
    # Household 0 is linked to the far member; he has one place left, the near member none.
    p = problem([(1, 0, 0, 1), (1, 1, 0, None), (1, 2, 0, None)], [(1, 0, 0, 1), (1, 1000, 0, 2)])

    result = solve(p)

    assert result.assignment[0] == 1  # kept although member 0 is next door
    assert sorted(result.assignment[1:].tolist()) == [0, 1]
    assert result.total_cost == 1000 + 1 + 998


def test_with_a_margin_a_household_moves_only_when_its_walk_shrinks_by_more_than_it():
    # Linked 500 m away; a free member is 100 m away: the walk would shrink by exactly 400 m.
    p = problem([(1, 0, 0, 0)], [(1, 500, 0, 5), (1, 100, 0, 5)])

    assert solve(p, rebalance_margin=400).assignment.tolist() == [0]
    assert solve(p, rebalance_margin=399).assignment.tolist() == [1]
    assert solve(p, rebalance_margin=399.5).assignment.tolist() == [1]  # whole metres: "more than 399.5" is 400
    assert solve(p).assignment.tolist() == [0]


def test_rebalancing_never_lengthens_a_linked_households_walk_to_make_room():
    # A is linked to X (100 m) and could take Y (105 m) to free X for B (10 m from X, 1000 m from Y).
    # That would shorten the total, but A's own walk would grow: A stays and B walks to Y.
    p = problem([(1, 100, 0, 0), (1, 10, 0, None)], [(1, 0, 0, 1), (1, 100, 105, 1)])

    result = solve(p, rebalance_margin=0)

    assert result.assignment.tolist() == [0, 1]


def test_rebalancing_never_leaves_a_linked_household_without_a_member():
    # One place, held by a distant linked household; a nearer unlinked one cannot push it out.
    p = problem([(1, 900, 0, 0), (1, 1, 0, None)], [(1, 0, 0, 1)])

    result = solve(p, rebalance_margin=0)

    assert result.assignment.tolist() == [0, NO_MEMBER]


def test_a_member_above_his_capacity_keeps_his_households():
    p = problem([(1, 0, 0, 0), (1, 1, 0, 0), (1, 2, 0, None)], [(1, 0, 0, 1), (1, 50, 0, 1)])

    for margin in (None, 0):
        assert solve(p, rebalance_margin=margin).assignment.tolist() == [0, 0, 1]


def test_households_without_coordinates_go_to_a_member_of_their_grid():
    p = problem([(1, None, None, None), (1, 3, 4, None)], [(1, 0, 0, 1), (1, 800, 0, 1)], groups=([7, 7], [3, 7]))

    result = solve(p)

    assert result.assignment.tolist() == [1, 0]  # the household without coordinates takes the grid-7 member
    assert result.cost.tolist() == [0, 5]


def test_without_a_grid_match_the_penalty_still_places_the_household_in_its_branch():
    p = problem([(1, None, None, None)], [(1, 0, 0, 1)], groups=([7], [3]))

    result = solve(p)

    assert result.assignment.tolist() == [0]
    assert result.total_cost == solver.NO_COORDINATES_PENALTY


def test_walks_are_rounded_to_whole_metres_half_up():
    walks = solver.link_costs(np.array([[0.0, 0.0]]), np.array([[1.5, 2.0], [0.3, 0.4], [0.2, 0.3], [3.0, 4.0]]))

    assert walks.tolist() == [[3, 1, 0, 5]]  # 2.5 -> 3, 0.5 -> 1, 0.36 -> 0


def test_it_rejects_a_negative_margin():
    with pytest.raises(ProblemError):
        solve(problem([(1, 0, 0, None)], [(1, 0, 0, 1)]), rebalance_margin=-1)


# ---------------------------------------------------------------------------------------------
# Against brute force, and sparse against all arcs.


def brute_force(p: Problem, margin):
    """(placed, objective) of the best assignment by enumeration; objective counts kept links at walk - margin."""
    costs = solver.link_costs(p.household_xy, p.member_xy, p.household_group, p.member_group)
    n_h, n_m = costs.shape
    options = []
    load = np.bincount(p.household_member[p.household_member >= 0], minlength=n_m)
    capacity = np.maximum(p.member_capacity, load)
    for h in range(n_h):
        same = [m for m in range(n_m) if p.member_branch[m] == p.household_branch[h]]
        current = p.household_member[h]
        if current >= 0 and margin is None:
            options.append([current])
        elif current >= 0:
            options.append([current] + [m for m in same if costs[h, m] < costs[h, current] - margin])
        else:
            options.append([NO_MEMBER] + same)
    best = None
    for choice in itertools.product(*options):
        used = np.bincount([m for m in choice if m >= 0], minlength=n_m)
        if (used > capacity).any():
            continue
        objective = sum(int(costs[h, m]) for h, m in enumerate(choice) if m >= 0)
        if margin is not None:
            objective -= margin * sum(1 for h, m in enumerate(choice) if m >= 0 and m == p.household_member[h])
        key = (-sum(1 for m in choice if m >= 0), objective)
        best = key if best is None or key < best else best
    return -best[0], best[1]


def objective_of(p: Problem, result, margin):
    kept = int(((result.assignment == p.household_member) & (p.household_member >= 0)).sum())
    return int((result.assignment >= 0).sum()), result.total_cost - (margin or 0) * kept * (margin is not None)


def random_problem(rng, *, branches=2, max_households=6, max_members=3):
    households, members = [], []
    for b in range(branches):
        first = len(members)
        for _ in range(rng.integers(1, max_members + 1)):
            members.append((b, *rng.integers(0, 1000, 2), int(rng.integers(0, 3))))
        for _ in range(rng.integers(1, max_households + 1)):
            linked = rng.random() < 0.4
            households.append((b, *rng.integers(0, 1000, 2), int(rng.integers(first, len(members))) if linked else None))
    return problem(households, members)


@pytest.mark.parametrize("seed", range(40))
def test_it_matches_brute_force_on_random_small_branches(seed):
    rng = np.random.default_rng(seed)
    p = random_problem(rng)
    for margin in (None, 0, 150):
        for candidates in (1, 2, None):
            result = solve(p, rebalance_margin=margin, candidates=candidates)
            assert objective_of(p, result, margin) == brute_force(p, margin), (margin, candidates)
            check_feasible(p, result, margin)


def check_feasible(p: Problem, result, margin):
    placed = result.assignment >= 0
    assert (p.member_branch[result.assignment[placed]] == p.household_branch[placed]).all()
    linked = p.household_member >= 0
    if margin is None:
        assert (result.assignment[linked] == p.household_member[linked]).all()
    else:
        assert placed[linked].all()
    load = np.bincount(result.assignment[placed], minlength=len(p.member_branch))
    held = np.bincount(p.household_member[linked], minlength=len(p.member_branch))
    assert (load <= np.maximum(p.member_capacity, held)).all()


def clustered_problem(seed, *, branches=12, households=300, members=30, places=1.1):
    """Villages of clustered households: candidate arcs miss spill-over, so the proof has work to do."""
    rng = np.random.default_rng(seed)
    hs, ms = [], []
    for b in range(branches):
        centres = rng.uniform(-700, 700, (4, 2))
        points = centres[rng.integers(0, 4, households)] + rng.normal(0, 90, (households, 2))
        homes = points[rng.integers(0, households, members)] + rng.normal(0, 25, (members, 2))
        capacity = rng.multinomial(int(households * places) - members, np.ones(members) / members) + 1
        linked = rng.random(households) < 0.3
        hs += [(b, x, y, (len(ms) + int(rng.integers(0, members))) if link else None)
               for (x, y), link in zip(points, linked)]
        ms += [(b, x, y, int(c)) for (x, y), c in zip(homes, capacity)]
    return problem(hs, ms)


@pytest.mark.parametrize("places", [0.9, 1.05, 1.3])
@pytest.mark.parametrize("margin", [None, 30])
def test_candidate_arcs_with_the_reduced_cost_proof_give_the_all_arcs_optimum(places, margin):
    p = clustered_problem(int(places * 100), places=places)

    exact = solve(p, rebalance_margin=margin, candidates=None)
    sparse = solve(p, rebalance_margin=margin, candidates=4)

    assert objective_of(p, sparse, margin) == objective_of(p, exact, margin)
    check_feasible(p, sparse, margin)
    assert sparse.stats.resolved_branches + sparse.stats.all_arc_fallbacks > 0  # the proof was put to work


def test_left_out_arcs_are_added_by_the_proof_and_infeasible_candidates_fall_back_to_all_arcs():
    p = clustered_problem(130, places=1.3)

    result = solve(p, candidates=4)

    assert result.stats.resolved_branches > 0 and result.stats.added_arcs > 0
    assert result.stats.all_arc_fallbacks > 0
    assert result.total_cost == solve(p, candidates=None).total_cost


def test_two_processes_give_the_same_assignment_as_one():
    p = clustered_problem(7, branches=40, households=60, members=6)

    one = solve(p, processes=1)
    two = solve(p, processes=2)

    assert np.array_equal(one.assignment, two.assignment)
    assert two.stats.branches == 40


# ---------------------------------------------------------------------------------------------
# The JSON format of solve_links.


def test_the_json_format_round_trip():
    data = {
        "households": [
            {"id": "h1", "branch": "甲村", "x": 4, "y": 0, "member": None},
            {"id": "h2", "branch": "甲村", "x": 1, "y": 0, "member": None},
            {"id": "h3", "branch": "乙村", "x": 0, "y": 0, "member": None},
        ],
        "members": [
            {"id": "m1", "branch": "甲村", "x": 0, "y": 0, "capacity": 1},
            {"id": "m2", "branch": "甲村", "x": 10, "y": 0, "capacity": 1},
        ],
        "rebalance_margin": None,
    }

    assert solve_json(data) == {"assignment": {"h1": "m2", "h2": "m1"}, "unplaced": ["h3"], "cost": 7}


def test_json_keeps_current_links_and_treats_an_unknown_member_as_no_link():
    data = {
        "households": [
            {"id": "h1", "branch": "b", "x": 0, "y": 0, "member": "m2"},
            {"id": "h2", "branch": "b", "x": 0, "y": 0, "member": "gone"},  # e.g. a member who is now exempt
        ],
        "members": [{"id": "m1", "branch": "b", "x": 0, "y": 0, "capacity": 5},
                    {"id": "m2", "branch": "b", "x": 30, "y": 40, "capacity": 5}],
        "rebalance_margin": None,
    }

    assert solve_json(data) == {"assignment": {"h1": "m2", "h2": "m1"}, "unplaced": [], "cost": 50}
    data["rebalance_margin"] = 49
    assert solve_json(data)["assignment"]["h1"] == "m1"


@pytest.mark.parametrize("data,message", [
    ({"households": {}}, "households must be a list"),
    ({"households": [{"branch": "b"}]}, "needs an id"),
    ({"households": [{"id": "h", "branch": "b"}, {"id": "h", "branch": "b"}]}, "unique"),
    ({"members": [{"id": "m", "branch": "b", "capacity": -1}]}, "capacity"),
    ({"members": [{"id": "m", "branch": "b", "capacity": 2.5}]}, "capacity"),
    ({"households": [{"id": "h", "branch": "b", "x": "1", "y": 2}]}, "numbers"),
    ({"households": [{"id": "h", "x": 1, "y": 2}]}, "branch is required"),
    ({"rebalance_margin": "far"}, "rebalance_margin"),
    ({"rebalance_margin": -5}, "non-negative"),
])
def test_json_input_errors_are_reported(data, message):
    with pytest.raises(ProblemError, match=message):
        solve_json(data)
