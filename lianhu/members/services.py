"""Writes on members and liaison links: each checks its invariants and is audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from lianhu.accounts.models import Membership
from lianhu.audit.models import AuditEntry
from lianhu.audit.services import audit_log, changes_detail, created_detail, snapshot
from lianhu.audit.lookups import refuse_duplicate_id_number
from lianhu.common.conflicts import conflict
from lianhu.common.pinyin import name_initials
from lianhu.common.search_keys import id_number_hash
from lianhu.common.validators import parse_id_number
from lianhu.common.versions import apply_changes, refuse_stale
from lianhu.org.models import Household
from lianhu.org.rules import grid_in_branch

from . import rules
from .models import EndReason, LiaisonLink, MemberStatus, PartyMember, party_age_problem, underage_problem


# What exempting, reinstating and leaving change: their audit entries keep these before and after.
STATUS_FIELDS = ("status", "exempt_reason", "exempt_since", "exempt_approved_by", "post")


def _refuse_taken_number(id_number: str | None, *, exclude_pk, actor, ip: str | None) -> None:
    """A number registered to another member is refused, before any transaction: a number registered
    outside the user's scope is a look-up (audit.lookups), and its audit entry must outlive the refusal."""
    if not id_number:
        return
    id_hash = id_number_hash(id_number)
    refuse_duplicate_id_number(PartyMember.objects.filter(id_number_hash=id_hash).exclude(pk=exclude_pk), actor,
                               raw=id_number, ip=ip)


def _check_member(member: PartyMember, *, actor, id_number: str | None, phone: str | None,
                  sent: Collection[str] | None = None) -> list[str]:
    """Set the sealed fields that are given and check the rules of a member's own fields.

    `sent`: the fields an update sets (None: all of them, a new member). Returns the sealed fields that changed.
    """
    changed = member.set_sealed(id_number=id_number, phone=phone)
    member.name_initials = name_initials(member.name)
    grid_in_branch(member.grid if member.grid_id else None, member.branch_id)
    age = party_age_problem(member.birth_date, member.joined_party_on)
    if age is not None and age[0] == "error":  # before 18 is only questioned: old records may say so
        # One date sent, against the other on record: the stored data is in the way (409 in the API).
        on_record = sent is not None and not {"birth_date", "joined_party_on"} <= set(sent)
        raise conflict(age[1], "joined_party_on") if on_record else ValidationError({"joined_party_on": age[1]})
    # The age as the birth date gives it, or else as a new ID number does (the form leaves the date blank).
    underage = underage_problem(member.birth_date or (parse_id_number(id_number).birth_date if id_number else None))
    if underage:
        raise ValidationError({"birth_date" if member.birth_date else "id_number": underage})
    if member.id_number_hash:
        refuse_duplicate_id_number(PartyMember.objects.filter(id_number_hash=member.id_number_hash).exclude(pk=member.pk), actor)
    return changed


def _save(member: PartyMember, **kwargs) -> None:
    try:
        with transaction.atomic():
            member.save(**kwargs)
    except IntegrityError:
        raise conflict("该身份证号已经登记", "id_number") from None


def member_create(*, member: PartyMember, actor, ip: str | None = None, id_number: str | None = None,
                  phone: str | None = None) -> PartyMember:
    """Register a new member with his sealed ID number and phone."""
    _refuse_taken_number(id_number, exclude_pk=None, actor=actor, ip=ip)
    _check_member(member, actor=actor, id_number=id_number, phone=phone)
    member.full_clean(validate_constraints=False)
    with transaction.atomic():
        _save(member)
        audit_log(actor=actor, action="create", obj=member, ip=ip, detail=created_detail(member))
    return member


def member_update(*, member: PartyMember, changes: dict, actor, ip: str | None = None,
                  expected_version: str | Collection[str] | None = None, id_number: str | None = None,
                  phone: str | None = None) -> PartyMember:
    """Change the given fields of a member, and only those, on the row as it is now.

    The row is read again under its lock (which link_create takes too, so his load cannot change
    meanwhile): what another writer saved stays, and a writer who names the version he read
    (`expected_version`) is refused with StaleVersion once it has changed. Sealed fields change only
    when a value is given (blank clears). Returns the member as stored.
    """
    _refuse_taken_number(id_number, exclude_pk=member.pk, actor=actor, ip=ip)
    with transaction.atomic():
        stored = PartyMember.objects.select_for_update().get(pk=member.pk)
        refuse_stale(stored, expected_version)
        branch_before, status_before, before = stored.branch_id, stored.status, snapshot(stored)
        changed = apply_changes(stored, changes)
        changed += _check_member(stored, actor=actor, id_number=id_number, phone=phone, sent=changes)
        if not changed:
            return stored
        load = stored.links.active().count()
        if stored.status == MemberStatus.ACTIVE and stored.capacity < load:
            raise conflict("可联系户数不能少于当前已联系的户数（%d 户）" % load, "capacity")
        if stored.branch_id != branch_before and load:
            raise conflict("该党员仍有联系户，请先解除联系再调往其他支部", "branch")
        if stored.status != MemberStatus.ACTIVE and status_before == MemberStatus.ACTIVE and load:
            raise conflict("该党员仍有联系户，请使用“认定不能联户”或先解除联系", "status")
        stored.full_clean(validate_constraints=False)
        columns = {"name": ["name", "name_initials"], **PartyMember.sealed_columns}
        _save(stored, update_fields=[*(c for field in changed for c in columns.get(field, [field])), "updated_at"])
        audit_log(actor=actor, action="update", obj=stored, ip=ip,
                  detail=changes_detail(before, snapshot(stored, changed), changed))
    return stored


def link_create(*, member: PartyMember, household: Household, actor, ip: str | None = None,
                started_on: dt.date | None = None, reason: EndReason = EndReason.REASSIGNED) -> LiaisonLink:
    """Link a household to a member; a household that already has a member is moved (the old link ends)."""
    today = started_on or timezone.localdate()
    with transaction.atomic():
        # Lock the member row so two concurrent links cannot both squeeze under the capacity.
        member = PartyMember.objects.select_for_update().get(pk=member.pk)
        # The household row too: a concurrent move to another branch must not slip between check and link.
        household = Household.objects.select_for_update().get(pk=household.pk)
        refusal = (rules.inactive_member(member.name, member.status)
                   or rules.other_branch(member.name, member.branch_id, household.branch_id))
        if refusal:
            raise conflict(refusal)
        current = LiaisonLink.objects.select_for_update().filter(household=household, ended_on__isnull=True).first()
        if current is not None and current.member_id == member.pk:
            raise conflict("该户已由党员%s联系" % member.name)
        refusal = rules.no_room(member.name, member.links.active().count(), member.capacity)
        if refusal:
            raise conflict(refusal)
        if current is not None:
            _end(current, actor=actor, ip=ip, on=today, reason=reason)
        link = LiaisonLink(member=member, household=household, started_on=today,
                           created_by=actor if getattr(actor, "is_authenticated", False) else None)
        link.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                link.save()
        except IntegrityError:
            raise conflict("该户刚刚已被其他人安排了联系党员，请刷新后重试") from None
        audit_log(actor=actor, action="link", obj=household, ip=ip,
                  detail={"member_id": member.pk, "member": member.name})
    return link


def _end(link: LiaisonLink, *, actor, ip, on: dt.date, reason: str) -> None:
    link.ended_on = max(on, link.started_on)
    link.end_reason = reason
    link.ended_by = actor if getattr(actor, "is_authenticated", False) else None
    link.save(update_fields=["ended_on", "end_reason", "ended_by"])
    audit_log(actor=actor, action="unlink", obj=link.household, ip=ip,
              detail={"member_id": link.member_id, "reason": reason})


def link_end(*, link: LiaisonLink, actor, ip: str | None = None, reason: str = EndReason.MANUAL,
             ended_on: dt.date | None = None) -> LiaisonLink:
    """End a link, once: the row is read again under its lock, so of two ends at once the second is refused
    and the first one's date, reason and who ended it stay. Returns the link as stored."""
    with transaction.atomic():
        link = LiaisonLink.objects.select_for_update().get(pk=link.pk)
        if not link.is_active:
            raise conflict("该联系关系已经结束")
        _end(link, actor=actor, ip=ip, on=ended_on or timezone.localdate(), reason=reason)
    return link


def _active_links_locked(member: PartyMember) -> list[LiaisonLink]:
    """A member's active links, locked: one ended meanwhile (link_end does not lock the member) is waited
    for and then left out, never ended a second time."""
    return list(member.links.active().select_for_update(of=("self",)).select_related("household").order_by("pk"))


def member_mark_exempt(*, member: PartyMember, reason: str, since: dt.date, approved_by: str, actor,
                       ip: str | None = None, post: str = "",
                       expected_version: str | Collection[str] | None = None) -> int:
    """Record that a member can no longer link households; his households become unlinked.

    Returns how many households were released into the "needs a member" list. With `expected_version`,
    StaleVersion when the member changed since that version.
    """
    if since > timezone.localdate():
        raise ValidationError({"since": "认定日期不能晚于今天"})
    with transaction.atomic():
        member = PartyMember.objects.select_for_update().get(pk=member.pk)
        refuse_stale(member, expected_version)
        if member.status == MemberStatus.LEFT:
            raise conflict("已转出的党员不能认定为不能联户")
        before = snapshot(member, STATUS_FIELDS)
        links = _active_links_locked(member)
        for link in links:
            _end(link, actor=actor, ip=ip, on=since, reason=EndReason.MEMBER_EXEMPT)
        member.status = MemberStatus.EXEMPT
        member.exempt_reason = reason
        member.exempt_since = since
        member.exempt_approved_by = approved_by
        member.post = post
        member.full_clean()
        member.save()
        audit_log(actor=actor, action="exempt", obj=member, ip=ip,
                  detail={"reason": reason, "since": since.isoformat(), "released": len(links),
                          **changes_detail(before, snapshot(member, STATUS_FIELDS))})
    return len(links)


def member_reinstate(*, member: PartyMember, actor, ip: str | None = None) -> PartyMember:
    """An exempt member who can serve again links households again (starting with none)."""
    with transaction.atomic():
        member = PartyMember.objects.select_for_update().get(pk=member.pk)
        if member.status != MemberStatus.EXEMPT:
            raise conflict("只有“丧失联户能力”的党员可以恢复联户")
        before = snapshot(member, STATUS_FIELDS)
        member.status = MemberStatus.ACTIVE
        member.exempt_reason = ""
        member.exempt_since = None
        member.exempt_approved_by = ""
        member.full_clean()
        member.save()
        audit_log(actor=actor, action="update", obj=member, ip=ip,
                  detail={"reinstated": True, **changes_detail(before, snapshot(member, STATUS_FIELDS))})
    return member


def member_mark_left(*, member: PartyMember, on: dt.date, actor, ip: str | None = None) -> int:
    """A member who moves away or passes away leaves the branch; his households become unlinked."""
    with transaction.atomic():
        member = PartyMember.objects.select_for_update().get(pk=member.pk)
        before = snapshot(member, STATUS_FIELDS)
        links = _active_links_locked(member)
        for link in links:
            _end(link, actor=actor, ip=ip, on=on, reason=EndReason.MEMBER_LEFT)
        member.status = MemberStatus.LEFT
        member.exempt_reason = ""
        member.exempt_since = None
        member.full_clean()
        member.save()
        # Whoever left the branch no longer sees its households.
        Membership.objects.filter(member=member, is_active=True).update(is_active=False)
        audit_log(actor=actor, action="update", obj=member, ip=ip,
                  detail={"left": on.isoformat(), "released": len(links),
                          **changes_detail(before, snapshot(member, STATUS_FIELDS))})
    return len(links)


def links_assign_bulk(*, assignments: dict[int, int], actor, ip: str | None = None, office_id: int | None = None,
                      reason: str = EndReason.REASSIGNED) -> int:
    """Give many households (household id → member id) their member at once, all or nothing.

    The same rules as link_create (active member, same branch, capacity, one active link per
    household), checked on the final state in memory, then a handful of bulk statements: a whole
    office's first assignment is thousands of links, too many for one link_create each.
    """
    if not assignments:
        return 0
    today = timezone.localdate()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        # Households first, then members, each in pk order: the order the proposal's lock takes too.
        households = Household.objects.select_for_update().filter(pk__in=assignments).order_by("pk").in_bulk()
        current = {l.household_id: l for l in LiaisonLink.objects.select_for_update().active()
                   .filter(household_id__in=assignments).order_by("pk")}
        moving = {h: m for h, m in assignments.items() if h not in current or current[h].member_id != m}
        member_ids = set(moving.values()) | {current[h].member_id for h in moving if h in current}
        members = PartyMember.objects.select_for_update().filter(pk__in=member_ids).order_by("pk").in_bulk()
        load = Counter(dict(LiaisonLink.objects.active().filter(member_id__in=member_ids)
                            .values("member_id").annotate(n=Count("id")).values_list("member_id", "n")))
        for household_id, member_id in moving.items():
            member, household = members[member_id], households[household_id]
            refusal = (rules.inactive_member(member.name, member.status)
                       or rules.other_branch(member.name, member.branch_id, household.branch_id, household=household.code))
            if refusal:
                raise ValidationError(refusal)
            load[member_id] += 1
            if household_id in current:
                load[current[household_id].member_id] -= 1
        for member_id in set(moving.values()):
            refusal = rules.over_capacity(members[member_id].name, load[member_id], members[member_id].capacity)
            if refusal:
                raise ValidationError(refusal)
        ending = [current[h] for h in moving if h in current]
        LiaisonLink.objects.filter(pk__in=[l.pk for l in ending]).update(
            ended_on=Greatest(Value(today), F("started_on")), end_reason=reason, ended_by=user)
        LiaisonLink.objects.bulk_create(
            [LiaisonLink(member_id=m, household_id=h, started_on=today, created_by=user) for h, m in moving.items()],
            batch_size=500,
        )
        label = str(user) if user else "系统"
        entries = [
            AuditEntry(actor=user, actor_label=label, action="unlink", object_type="org.household",
                       object_id=str(l.household_id), object_repr=str(households[l.household_id])[:200],
                       office_id=office_id, ip=ip, detail={"member_id": l.member_id, "reason": reason})
            for l in ending
        ] + [
            AuditEntry(actor=user, actor_label=label, action="link", object_type="org.household",
                       object_id=str(h), object_repr=str(households[h])[:200], office_id=office_id, ip=ip,
                       detail={"member_id": m, "member": members[m].name})
            for h, m in moving.items()
        ]
        AuditEntry.objects.bulk_create(entries, batch_size=500)
    return len(moving)
