"""Look-ups of personal data by ID number: audited, and limited per user and hour.

Finding an ID number is an oracle: a search that answers "found" or "not found", a form that refuses
a number already registered elsewhere, an import that says which of its numbers are taken. Each such
answer is a look-up: it is written to the audit log (verb `lookup`, the number masked) and counted,
and a user who has used `LIANHU_ID_LOOKUP_LIMIT` of them in the last hour (20 by default) is refused
(`IdLookupLimit`: the web answers 429, the API 429 with its JSON shape) until the hour has passed. The
first refusal of an hour is logged for his office (verb `lookup_limit`): the office's audit
administrators see it in the log, counted at the top of their page. The command line has no limit.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lianhu.common.conflicts import conflict
from lianhu.common.http import client_ip

from .models import AuditEntry
from .services import audit_log, masked_search

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=1)
LIMIT_MESSAGE = "身份证号查询过于频繁：每小时最多 {limit} 次，请稍后再试（已记录并通知办事处）"
NOT_HERE = "该身份证号无法在此登记，请联系办事处核实"


class IdLookupLimit(Exception):
    """The user has no ID-number look-ups left this hour."""

    def __init__(self):
        super().__init__(LIMIT_MESSAGE.format(limit=settings.LIANHU_ID_LOOKUP_LIMIT))


def _office_of(user) -> int | None:
    membership = user.primary_membership if user is not None else None
    return membership.anchors().get("office", [None])[0] if membership else None


def lookups_left(user) -> int | None:
    """How many look-ups the user has left in the current hour (None: no limit, the command line)."""
    if user is None or not user.is_authenticated:
        return None
    since = timezone.now() - WINDOW
    used = AuditEntry.objects.filter(actor=user, action="lookup", at__gte=since).count()
    return max(0, settings.LIANHU_ID_LOOKUP_LIMIT - used)


def id_lookup(*, actor, raw: str, ip: str | None = None, source: str = "") -> None:
    """Count and audit one look-up of `raw` by `actor`; IdLookupLimit if none is left this hour.

    Called before the answer is computed, so a refused look-up learns nothing."""
    left = lookups_left(actor)
    if left is not None and left <= 0:
        _alert_office(actor, ip)
        raise IdLookupLimit()
    audit_log(actor=actor, action="lookup", ip=ip, office_id=_office_of(actor),
              detail={"id_number": masked_search(raw), **({"source": source} if source else {})})


def audit_id_lookup(request, raw: str, source: str = "") -> None:
    """id_lookup for a request: its user and address."""
    id_lookup(actor=request.user, raw=raw, ip=client_ip(request), source=source)


def _alert_office(actor, ip: str | None) -> None:
    """One `lookup_limit` entry per user and hour, for his office's audit administrators."""
    since = timezone.now() - WINDOW
    if AuditEntry.objects.filter(actor=actor, action="lookup_limit", at__gte=since).exists():
        return
    logger.warning("user %s reached the ID look-up limit", actor.pk)
    with transaction.atomic():
        audit_log(actor=actor, action="lookup_limit", ip=ip, office_id=_office_of(actor),
                  detail={"limit": settings.LIANHU_ID_LOOKUP_LIMIT})


def refuse_duplicate_id_number(clashes, actor, *, raw: str = "", ip: str | None = None) -> None:
    """Refuse an ID number already registered (`clashes`: the other records holding it).

    Where it is registered is said only to a user who may see that record. For one who may not, the
    refusal is itself an answer about a record outside his scope: it says nothing of where, and it
    counts as a look-up (audited, limited), so that nobody can probe numbers through the forms.
    """
    left = lookups_left(actor) if actor is not None else None
    if left is not None and left <= 0:  # checked before the clash, so the refusal tells nothing either
        _alert_office(actor, ip)
        raise IdLookupLimit()
    clash = clashes.first()
    if clash is None:
        return
    visible = clashes.model.objects.visible_to(actor).filter(pk=clash.pk).exists() if actor is not None else False
    if visible:
        where = clash.household.code if hasattr(clash, "household") else clash.branch.name
        raise conflict("该身份证号已登记：%s（%s）" % (where, clash.name), "id_number")
    if actor is not None and getattr(actor, "is_authenticated", False):
        id_lookup(actor=actor, raw=raw or clash.id_number_masked, ip=ip, source="duplicate")
    raise conflict(NOT_HERE, "id_number")


class ImportLookups:
    """The look-ups an import makes of numbers registered outside the importer's scope.

    Each row refused that way costs one look-up; once the user has none left, the remaining rows are
    not told apart (one message for the file), so a file of candidate numbers cannot serve as an oracle.
    """

    def __init__(self, user, source: str):
        self.user = user if user is not None and getattr(user, "is_authenticated", False) else None
        self.source = source
        self.left = lookups_left(self.user)
        self.withheld = 0

    @property
    def exhausted(self) -> bool:
        """No look-up left at the start: a file with numbers new to the user is not checked at all."""
        return self.left is not None and self.left <= 0

    def exhausted_message(self) -> str:
        _alert_office(self.user, None)
        return ("本小时可核对的身份证号次数已用完（每小时 %d 次），文件中有系统中您范围内尚未登记的身份证号，"
                "没有检查；请一小时后重新上传" % settings.LIANHU_ID_LOOKUP_LIMIT)

    def take(self, raw: str) -> bool:
        """Whether this row may be told its number is taken (one look-up spent), else withheld."""
        if self.left is None:
            return True
        if self.left <= 0:
            self.withheld += 1
            return False
        self.left -= 1
        id_lookup(actor=self.user, raw=raw, source=self.source)
        return True

    def file_problem(self) -> str | None:
        """The message for the file when rows were withheld."""
        if not self.withheld:
            return None
        _alert_office(self.user, None)
        return ("文件中还有身份证号无法在此登记；本小时可核对的身份证号次数已用完，"
                "请一小时后重新上传，或联系办事处核实")
