"""The solver benchmark itself works (a small city; the figures come from `make bench`)."""

import numpy as np

from bench.bench_solver import generate_city, greedy, load, run_phase, save
from lianhu.members import solver


def test_a_small_city_is_solved_exactly_and_beats_greedy(tmp_path):
    city = generate_city(households=6_000, members=540, branches=18, seed=3)
    path = tmp_path / "city.npz"
    save(city, path)

    sparse = run_phase("sparse", path, processes=2, candidates=solver.CANDIDATES)
    exact = run_phase("exact", path, processes=1, candidates=solver.CANDIDATES)
    nearest_first = greedy(load(path), processes=1)

    assert sparse["cost"] == exact["cost"] and sparse["placed"] == exact["placed"]
    assert int((nearest_first.assignment >= 0).sum()) == sparse["placed"]
    assert nearest_first.total_cost > sparse["cost"]
    assert np.bincount(city.household_branch).sum() == 6_000 and len(city.member_branch) == 540
