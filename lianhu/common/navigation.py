"""The navigation bar, as the apps register it: each entry says when it shows and where it leads.

    register_nav("households", "户", order=50, url=lambda user, m: reverse("org:household_list")
                 if m is not None and m.role != "member" else None)

`url(user, membership)` returns the link, or None when the entry is not for this user (the role's
page, or an action the user lacks). The bar lists the entries in `order`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .registry import Registry


@dataclass(frozen=True)
class NavEntry:
    name: str
    label: str
    url: Callable[[object, object], str | None]  # (user, primary membership or None) → href or None
    order: int = 100


navigation: Registry[NavEntry] = Registry("navigation entry")


def register_nav(name: str, label: str, *, url: Callable[[object, object], str | None], order: int = 100) -> NavEntry:
    return navigation.register(name, NavEntry(name=name, label=label, url=url, order=order))


def nav_for(user, membership) -> list[tuple[str, str]]:
    """(label, href) of the entries this user sees, in order."""
    links = []
    for entry in sorted(navigation.values(), key=lambda e: (e.order, e.name)):
        href = entry.url(user, membership)
        if href:
            links.append((entry.label, href))
    return links
