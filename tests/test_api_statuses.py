"""Every error status an operation documents is one it really answers: each is provoked here.

schemathesis (tests/test_api_schema.py) checks that whatever the API answers is documented; this checks
the other way round, operation by operation and status by status, read from the OpenAPI document itself:
a status documented without a way to provoke it here fails, and so does a provocation of a status the
operation does not document. Each answer has the documented shape ({"detail"}, or {"detail", "errors"}
for 409 and 422).

Most statuses are provoked the same way everywhere (`GENERIC`); 409 and 429 depend on the operation
(`SPECIFIC`), and so does 404 for an operation that names its objects in the body only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest
from django.test import Client

from lianhu.accounts.models import ApiToken
from lianhu.common.http import MAX_PK
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember

pytestmark = pytest.mark.django_db

API = "/api/v1"
ID_NUMBER = "360426199101010071"  # resident_a's


@dataclass(frozen=True)
class Call:
    """A request to an operation: office A's administrator with his token, unless told otherwise."""

    path: dict = field(default_factory=dict)  # path parameter → object of the world (its name) or a raw value
    body: object = None  # a dict sent as JSON, or a str sent as it is
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    auth: str = "token"  # "token", "none", or "session" (logged in, no CSRF token)
    lookup_limit: int | None = None  # LIANHU_ID_LOOKUP_LIMIT for this call
    before: object = None  # world → None, run first


IN_SCOPE = {"office_id": "office", "branch_id": "branch_a", "grid_id": "grid_a", "household_id": "household_a",
            "resident_id": "resident_a", "member_id": "member_a", "link_id": "link_a"}
OTHER_OFFICE = {"office_id": "other_office", "branch_id": "branch_other", "grid_id": "grid_other",
                "household_id": "household_other", "resident_id": "resident_other", "member_id": "member_other",
                "link_id": "link_other"}

# A request each operation accepts (for the objects of office A), from which the provocations start.
VALID = {
    "POST /households": lambda w: {"branch": w.branch_a.pk, "grid": w.grid_a.pk, "address": "甲村一组9号"},
    "PATCH /households/{household_id}": lambda w: {"notes": "新装了电梯"},
    "POST /residents": lambda w: {"household": w.household_a.pk, "name": "王小明", "gender": "M"},
    "POST /residents/search": lambda w: {"id_number": ID_NUMBER},
    "PATCH /residents/{resident_id}": lambda w: {"relation": "配偶"},
    "POST /residents/{resident_id}/reveal": lambda w: {"field": "phone"},
    "POST /members": lambda w: {"branch": w.branch_a.pk, "name": "王建设", "gender": "M"},
    "POST /members/search": lambda w: {"id_number": ID_NUMBER},
    "PATCH /members/{member_id}": lambda w: {"post": "政策宣传岗"},
    "POST /members/{member_id}/exempt": lambda w: {"reason": "病", "since": "2026-03-01", "approved_by": "王书记"},
    "POST /links": lambda w: {"member": w.member_a.pk, "household": w.household_a2.pk},
}


def _left(world):
    PartyMember.objects.filter(pk=world.member_a.pk).update(status=MemberStatus.LEFT)


def _ended(world):
    LiaisonLink.objects.filter(pk=world.link_a.pk).update(ended_on=world.link_a.started_on, end_reason="manual")


# Statuses that depend on the operation: (operation, status) → the call that provokes it.
SPECIFIC = {
    # 404 for objects named in the body: another office's
    ("POST /households", 404): lambda w: Call(body={"branch": w.branch_other.pk, "grid": w.grid_other.pk,
                                                    "address": "丙村6号"}),
    ("POST /residents", 404): lambda w: Call(body={"household": w.household_other.pk, "name": "王小明", "gender": "M"}),
    ("POST /members", 404): lambda w: Call(body={"branch": w.branch_other.pk, "name": "王建设", "gender": "M"}),
    ("POST /links", 404): lambda w: Call(body={"member": w.member_other.pk, "household": w.household_other.pk}),
    # 409: the stored data stands in the way
    ("POST /households", 409): lambda w: Call(body={"branch": w.branch_a.pk, "grid": w.grid_b.pk, "address": "甲村9号"}),
    ("PATCH /households/{household_id}", 409): lambda w: Call(path={"household_id": "household_a"},
                                                             body={"code": w.household_b.code}),
    ("POST /residents", 409): lambda w: Call(body={"household": w.household_a.pk, "name": "单雪梅", "gender": "F",
                                                   "id_number": ID_NUMBER}),
    ("PATCH /residents/{resident_id}", 409): lambda w: Call(path={"resident_id": "resident_b"},
                                                           body={"id_number": ID_NUMBER}),
    ("POST /members", 409): lambda w: Call(body={"branch": w.branch_a.pk, "grid": w.grid_b.pk, "name": "王建设",
                                                 "gender": "M"}),
    ("PATCH /members/{member_id}", 409): lambda w: Call(path={"member_id": "member_a"}, body={"capacity": 0}),
    ("POST /members/{member_id}/exempt", 409): lambda w: Call(path={"member_id": "member_a"},
                                                             body=VALID["POST /members/{member_id}/exempt"](w),
                                                             before=_left),
    ("POST /links", 409): lambda w: Call(body={"member": w.member_a_exempt.pk, "household": w.household_a2.pk}),
    ("POST /links/{link_id}/end", 409): lambda w: Call(path={"link_id": "link_a"}, before=_ended),
    # 429: no ID-number look-up left this hour
    ("GET /households", 429): lambda w: Call(query={"q": ID_NUMBER}, lookup_limit=0),
    ("GET /members", 429): lambda w: Call(query={"q": ID_NUMBER}, lookup_limit=0),
    ("POST /residents/search", 429): lambda w: Call(body={"id_number": ID_NUMBER}, lookup_limit=0),
    ("POST /members/search", 429): lambda w: Call(body={"id_number": ID_NUMBER}, lookup_limit=0),
    ("POST /residents", 429): lambda w: Call(body={"household": w.household_a.pk, "name": "王小明", "gender": "M",
                                                   "id_number": "110105194912310029"}, lookup_limit=0),
    ("PATCH /residents/{resident_id}", 429): lambda w: Call(path={"resident_id": "resident_b"},
                                                           body={"id_number": "110105194912310029"}, lookup_limit=0),
    ("POST /members", 429): lambda w: Call(body={"branch": w.branch_a.pk, "name": "王建设", "gender": "M",
                                                 "id_number": "110105194912310029"}, lookup_limit=0),
    ("PATCH /members/{member_id}", 429): lambda w: Call(path={"member_id": "member_a"},
                                                       body={"id_number": "110105194912310029"}, lookup_limit=0),
}


def _generic(operation: str, status: int, world) -> Call | None:
    """The same provocation for every operation that documents `status`; None where it needs its own."""
    method, path = operation.split(" ", 1)
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    body = VALID[operation](world) if operation in VALID else None
    call = Call(path={name: IN_SCOPE[name] for name in names}, body=body)
    if status == 400:  # a body that is no JSON object; without a body, more parameters than Django reads
        if body is not None:
            return replace(call, body="[1, 2")
        return replace(call, query={f"p{n}": n for n in range(1001)})
    if status == 401:
        return replace(call, auth="none")
    if status == 403:
        return replace(call, auth="session")
    if status == 404 and names:
        return replace(call, path={name: OTHER_OFFICE[name] for name in names})
    if status == 412:
        return replace(call, headers={"If-Match": 'W/"1"'})
    if status == 422:  # a path id that is no number; a page 0; a body without its required fields
        if names:
            return replace(call, path={**call.path, names[0]: "abc"})
        return replace(call, query={"page": 0}) if method == "GET" else replace(call, body={})
    return None


def _documented() -> list[tuple[str, int]]:
    from config.api import api

    return [(f"{method.upper()} {path.removeprefix(API)}", int(status))
            for path, item in api.get_openapi_schema()["paths"].items()
            for method, operation in item.items()
            for status in operation["responses"] if int(status) >= 400]


DOCUMENTED = _documented()


def _send(world, operation: str, call: Call):
    objects = {**vars(world), "resident_other": world.household_other.residents.get(),
               "link_other": LiaisonLink.objects.get(member=world.member_other), "resident_b": world.resident_b}
    method, path = operation.split(" ", 1)
    for name, value in call.path.items():
        path = path.replace("{%s}" % name, str(objects[value].pk if value in objects else value))
    client = Client(enforce_csrf_checks=True)
    headers = dict(call.headers)
    if call.auth == "token":
        headers["Authorization"] = "Bearer " + ApiToken.issue(user=world.office_admin, name="statuses")[1]
    elif call.auth == "session":
        client.force_login(world.office_admin)
    url = API + path
    if call.query:
        url += "?" + "&".join(f"{k}={v}" for k, v in call.query.items())
    data = call.body if isinstance(call.body, str) or call.body is None else json.dumps(call.body)
    return client.generic(method, url, data or "", content_type="application/json", headers=headers)


@pytest.mark.parametrize("operation,status", DOCUMENTED, ids=[f"{o} {s}" for o, s in DOCUMENTED])
def test_every_documented_error_status_is_one_the_operation_answers(world, settings, operation, status):
    specific = SPECIFIC.get((operation, status))
    call = specific(world) if specific else _generic(operation, status, world)
    assert call is not None, f"{operation} documents {status}: add how to provoke it to SPECIFIC"
    if call.before:
        call.before(world)
    if call.lookup_limit is not None:
        settings.LIANHU_ID_LOOKUP_LIMIT = call.lookup_limit
    response = _send(world, operation, call)
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == ({"detail", "errors"} if status in (409, 422) else {"detail"}), body
    assert isinstance(body["detail"], str) and body["detail"]


def test_every_provocation_is_of_a_documented_status():
    """SPECIFIC names no status an operation does not document (it would be provoked by nobody)."""
    assert set(SPECIFIC) <= set(DOCUMENTED)
    assert len(DOCUMENTED) > 100
