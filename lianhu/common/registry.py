"""Registries: the lists a lower app reads and each higher app fills, in its AppConfig.ready().

A lower app never names a higher one. Where it needs to know what the apps above it bring (the
sheet kinds the import pages offer, the figures a dashboard shows, the entries of the navigation,
the actions a role may take, the verbs of the audit log, the demo seeders), it declares a registry
here or in its own code, and each app registers its entries when Django starts. The same shape as
`sweeps.sweep`: a name, a value, and a loud error for a name registered twice or looked up unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownEntry(KeyError):
    """A name nobody registered: a typo, or an app missing from INSTALLED_APPS."""

    def __str__(self) -> str:  # KeyError's own str() quotes the whole message
        return self.args[0] if self.args else ""


class Registry(Generic[T]):
    """Named entries in the order they were registered (the apps' order in INSTALLED_APPS)."""

    def __init__(self, what: str):
        self.what = what  # "sheet kind", "figure" …: said in errors
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries and self._entries[name] is not entry:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise UnknownEntry(f"unknown {self.what} {name!r}; registered: {known}") from None

    def get(self, name: str, default=None):
        return self._entries.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def unregister(self, name: str) -> None:
        """For tests that register an entry of their own."""
        self._entries.pop(name, None)


class Slot(Generic[T]):
    """An extension point of one page or rule of a lower app, filled by the apps above it.

    The household page of org shows what members (and later visits) add to it, without org
    importing them: org declares the slot, each app appends its entry in ready().
    """

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._entries: list[T] = []

    def add(self, entry: T) -> T:
        if entry not in self._entries:
            self._entries.append(entry)
        return entry

    def __call__(self, entry: T) -> T:  # as a decorator
        return self.add(entry)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def remove(self, entry: T) -> None:
        """For tests that add an entry of their own."""
        if entry in self._entries:
            self._entries.remove(entry)


def apply_all(slot: Slot[Callable[[T], T]], value: T) -> T:
    """Pass `value` through every function of a slot in turn (querysets gaining prefetches …)."""
    for func in slot:
        value = func(value)
    return value
