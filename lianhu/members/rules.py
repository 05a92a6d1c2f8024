"""The rules of a liaison link, shared by link_create, the bulk assignment and the links import.

Each returns the refusal in Chinese, or None; the callers raise it (services) or report it on the
row (import), so a rule changed here changes everywhere at once.
"""

from __future__ import annotations

from .models import MemberStatus

STATUS_LABELS = dict(MemberStatus.choices)


def inactive_member(name: str, status: str) -> str | None:
    """Only an active member links households (not an exempt one, nor one who left)."""
    if status == MemberStatus.ACTIVE:
        return None
    return f"党员{name}当前状态为“{STATUS_LABELS.get(status, status)}”，不能联系户"


def other_branch(name: str, member_branch_id: int, household_branch_id: int, *, household: str = "",
                 branch_names: dict[int, str] | None = None) -> str | None:
    """A member links households of his own branch only. `household` names the household (its code),
    `branch_names` lets the message name both branches."""
    if member_branch_id == household_branch_id:
        return None
    theirs = (branch_names or {}).get(member_branch_id, "")
    ours = (branch_names or {}).get(household_branch_id, "")
    if theirs and ours:
        return f"党员{name}属于{theirs}，与该户（{ours}）不属于同一支部"
    return f"党员{name}与户 {household} 不属于同一支部" if household else f"党员{name}与该户不属于同一支部"


def no_room(name: str, load: int, capacity: int, *, counting: str = "") -> str | None:
    """A member takes at most `capacity` households: refused when he already links `load` of them.
    `counting` says what the load includes (含本表安排的)."""
    if load < capacity:
        return None
    return f"党员{name}已联系 {load} 户{counting}，达到可联系户数上限（{capacity} 户）"


def over_capacity(name: str, final_load: int, capacity: int) -> str | None:
    """The same limit on a whole assignment at once: the load it would leave him with."""
    if final_load <= capacity:
        return None
    return f"党员{name}将联系 {final_load} 户，超过可联系户数上限（{capacity} 户）"
