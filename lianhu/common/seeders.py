"""Demo seeders: each app fills its part of the demo office, registered from its own `demo.py`.

`load_demo` (the demo app) imports every installed app's `demo` module (autodiscovery, as for
sweeps) and runs the seeders in dependency order, each with a random stream of its own, seeded by
(seed, seeder name): adding the next app's seeder changes none of the data the others make.

    @seeder("members", after=("org",))
    def seed_members(ctx: SeedContext) -> None: ...
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .registry import Registry


@dataclass
class SeedContext:
    seed: int
    rng: random.Random  # this seeder's own stream
    shared: dict = field(default_factory=dict)  # what one seeder leaves for those after it (by name)
    progress: Callable[[str, int, int], None] | None = None  # (phase, done, total)


@dataclass(frozen=True)
class Seeder:
    name: str
    func: Callable[[SeedContext], None]
    after: tuple[str, ...] = ()


seeders: Registry[Seeder] = Registry("demo seeder")


def seeder(name: str, *, after: tuple[str, ...] = ()) -> Callable:
    def register(func: Callable[[SeedContext], None]) -> Callable[[SeedContext], None]:
        seeders.register(name, Seeder(name=name, func=func, after=tuple(after)))
        return func

    return register


def stream(seed: int, name: str) -> random.Random:
    """The random stream of one seeder: the same for the same (seed, name), whatever else runs."""
    return random.Random(f"{seed}:{name}")


def ordered() -> list[Seeder]:
    """The registered seeders, each after those it names (ValueError on a missing one or a cycle)."""
    done: list[Seeder] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(s.name == name for s in done):
            return
        if name in visiting:
            raise ValueError(f"demo seeders depend on each other in a cycle at {name!r}")
        visiting.add(name)
        entry = seeders[name]
        for before in entry.after:
            visit(before)
        visiting.discard(name)
        done.append(entry)

    for name in seeders:
        visit(name)
    return done
