"""Figures of the registry (members): the liaison figures the seed page reports, for any set of branches.

"参与“党员联系户”的村（社区）支部共17个，共有675名党员参与联系服务群众5233户，因老、弱、病、残等丧失联户
能力的党员236名": members_linking, households_linked and members_exempt, each a fixed number of
grouped queries whatever the number of branches.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from lianhu.common.figures import Figure, FigureRow, Period, ratio, register_figures

from .models import LiaisonLink, MemberStatus, PartyMember


def _links_on(period: Period):
    """Links active at the end of the period."""
    if period.reaches_today():
        return LiaisonLink.objects.active()
    return LiaisonLink.objects.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=period.end),
                                      started_on__lte=period.end)


def _compute(branch_ids, period: Period) -> dict[int, dict[str, int]]:
    members, exempt = Counter(), Counter()
    current = PartyMember.objects.filter(branch_id__in=branch_ids).exclude(status=MemberStatus.LEFT)
    if period.reaches_today():  # the status as it stands: grouped by the stored column
        rows = current.values_list("branch_id", "status").annotate(n=Count("id"))
        rows = ((branch_id, status == MemberStatus.EXEMPT, n) for branch_id, status, n in rows)
    else:  # exempt by the end of the period
        was_exempt = Q(status=MemberStatus.EXEMPT, exempt_since__lte=period.end)
        rows = current.annotate(is_exempt=ExpressionWrapper(was_exempt, output_field=BooleanField())) \
            .values_list("branch_id", "is_exempt").annotate(n=Count("id"))
    for branch_id, is_exempt, n in rows:
        members[branch_id] += n
        if is_exempt:
            exempt[branch_id] += n
    links = _links_on(period)
    linking = dict(links.filter(member__branch_id__in=branch_ids).values("member__branch_id")
                   .annotate(n=Count("member_id", distinct=True)).values_list("member__branch_id", "n"))
    linked = dict(links.filter(household__branch_id__in=branch_ids).values("household__branch_id")
                  .annotate(n=Count("id")).values_list("household__branch_id", "n"))
    return {pk: {"members": members[pk], "members_exempt": exempt[pk], "members_linking": linking.get(pk, 0),
                 "households_linked": linked.get(pk, 0)} for pk in branch_ids}


def _unlinked(row: FigureRow) -> int:
    return (row.get("households") or 0) - (row.get("households_linked") or 0)


register_figures(
    "liaison",
    figures=[
        Figure("members", "党员", "名", "期末在册党员（不含已转出）"),
        Figure("members_linking", "联户党员", "名", "期末至少联系 1 户的党员"),
        Figure("members_exempt", "丧失联户能力党员", "名", "因老、弱、病、残或长期外出认定不能联户的党员"),
        Figure("households_linked", "已联系户数", "户", "期末有联系党员的户"),
        Figure("households_unlinked", "待安排联系党员的户", "户", "户数减已联系户数", derived=_unlinked),
        Figure("households_per_linking_member", "人均联系户数", "户", "已联系户数 ÷ 联户党员数",
               derived=ratio("households_linked", "members_linking")),
        Figure("liaison_coverage", "联户覆盖率", "%", "已联系户数 ÷ 户数 × 100",
               derived=ratio("households_linked", "households", percent=True)),
    ],
    compute=_compute,
)
