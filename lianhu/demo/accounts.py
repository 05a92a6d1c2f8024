"""The demo accounts, one per role (README "Demo accounts"), made once every app's seeder has run.

They belong to the demo app, the top layer: an account is anchored in org (zone, office, branch,
grid) or in members (the member account is a party member), so only an app above both may make them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db.models import Count, Q

from lianhu.accounts.models import Membership, Role, User
from lianhu.members.models import MemberStatus, PartyMember
from lianhu.org.demo import LONGGANG, MINGGANG, ZHENGGANG, ZONE_CODE
from lianhu.org.models import Branch, Office, Zone

# Meets the password policy (accounts.passwords); the README and `make demo` say it. The accounts are
# marked is_demo: they log in only with LIANHU_DEMO_MODE=1 and are never asked to change it.
DEMO_PASSWORD = "Lianhu@2026"
# load_demo checks these are free before it starts, so a clash fails before anything is written.
USERNAMES = ("zone", "minggang", "minggang_staff", "zhengang", "longgang", "zhongguan", "fenhoulv", "member", "grid",
             "advisor", "minggang_audit", "zone_audit")


@dataclass
class DemoAccount:
    username: str
    role: str
    scope: str


def create_demo_accounts() -> list[DemoAccount]:
    """Create the accounts of USERNAMES, in that order, on the demo zone stored by the seeders."""
    # Hashing is deliberately slow: hash the shared demo password once, not once per user.
    password = make_password(DEMO_PASSWORD)
    zone = Zone.objects.get(code=ZONE_CODE)
    offices = {o.name: o for o in Office.objects.all()}
    branches = {b.name: b for b in Branch.objects.all()}
    fenhoulv = branches["坟后吕村"]
    # The demo member holds the most households of 坟后吕村, so "my households" has something to show.
    member = (
        PartyMember.objects.filter(branch=fenhoulv, status=MemberStatus.ACTIVE)
        .annotate(n=Count("links", filter=Q(links__ended_on__isnull=True)))
        .order_by("-n", "pk")
        .first()
    )
    advised = (branches["湛庄村"], branches["后宋村"])
    return [
        _account("zone", "周建华", Role.ZONE_ADMIN, password, zone=zone),
        _account("minggang", MINGGANG.approver, Role.OFFICE_ADMIN, password, office=offices[MINGGANG.name]),
        _account("minggang_staff", "刘晓东", Role.OFFICE_STAFF, password, office=offices[MINGGANG.name]),
        _account("zhengang", ZHENGGANG.approver, Role.OFFICE_ADMIN, password, office=offices[ZHENGGANG.name]),
        _account("longgang", LONGGANG.approver, Role.OFFICE_ADMIN, password, office=offices[LONGGANG.name]),
        _account("zhongguan", "钟秀兰", Role.BRANCH_SECRETARY, password, branch=branches["钟观社区"]),
        _account("fenhoulv", "吕国强", Role.BRANCH_SECRETARY, password, branch=fenhoulv),
        _account("member", member.name, Role.MEMBER, password, member=member),
        _account("grid", "吕小芳", Role.GRID_WORKER, password, grid=fenhoulv.grids.order_by("code").first()),
        _account("advisor", "谢海军", Role.ADVISOR, password, advised=advised),
        # 三员分立: the log of 明港 and of the whole zone, read by neither of their administrators.
        _account("minggang_audit", "陈静", Role.AUDIT_ADMIN, password, office=offices[MINGGANG.name]),
        _account("zone_audit", "黄立新", Role.AUDIT_ADMIN, password, zone=zone),
    ]


def _account(username: str, display_name: str, role: Role, password: str, *, advised: tuple[Branch, ...] = (),
             **anchor) -> DemoAccount:
    """One user with one membership; `anchor` is the zone, office, branch, grid or member it applies to."""
    user = User.objects.create(username=username, display_name=display_name, password=password, is_demo=True)
    membership = Membership.objects.create(user=user, role=role, **anchor)
    if role == Role.MEMBER:
        member = anchor["member"]
        member.user = user
        member.save(update_fields=["user"])
        scope = f"{member.branch.name}党员{member.name}"
    elif role == Role.ADVISOR:
        membership.advised_branches.set(advised)
        scope = "、".join(b.name for b in advised)
    else:
        [place] = anchor.values()
        scope = str(place)
    return DemoAccount(username=username, role=role.label, scope=scope)
