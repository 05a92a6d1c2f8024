"""schemathesis over /api/v1/openapi.json: the API answers only what its schema says (issue 16, 入侵防范).

Every operation of the OpenAPI document is one test (schemathesis parametrizes them), run as two
personas of the persona world: office A's administrator (reads and writes office A; another office's
objects are 404) and a party member (reads his own households; every write is 404). Each test sends
schemathesis' examples, coverage and fuzzing cases, positive and negative, and runs all its default
checks on every answer: no 5xx; status codes, content types, headers and bodies as documented; requests
valid by the schema accepted (or refused as 401/403/404/409/412/429) and invalid ones refused; the
operation refuses a request without credentials.

Generated ids rarely name an object, so ids of the world's objects are drawn too (`REAL_IDS`), for paths,
query filters and bodies alike: the writes really write, and the reads find objects in scope and out.

Bounded and reproducible: a fixed seed, derandomized, `MAX_EXAMPLES` fuzzed cases per operation and
persona, no example database. What ran is printed after the module (operations × personas, requests and
the status codes answered), and a run that tested no operation fails.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from stdnum.cn import ric

from config.wsgi import application
from lianhu.accounts.models import ApiToken
from lianhu.common.testing import PksOf
from lianhu.members.models import PARTY_AGE, LiaisonLink, PartyMember
from lianhu.org.models import Branch, Grid, Household, Office, Resident

# Hypothesis keeps caches in .hypothesis/ of the working directory: in the test run's data directory instead.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(django_settings.DATA_DIR / "hypothesis"))

# Fuzzed cases per operation and persona; LIANHU_SCHEMATHESIS_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("LIANHU_SCHEMATHESIS_EXAMPLES", "25"))
PERSONAS = ["office_admin", "member_user"]

CONFIG = SchemathesisConfig.from_dict({
    "seed": 16,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    # A valid request may be refused for the state of the data: 404, 409 and 429 by default, and 412 for
    # a PATCH whose If-Match names a version that is no longer current (RFC 9110: that is what it is for).
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412",
                                                                 "429", "5xx"]}},
})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

# A parameter's name (in a path, a query string or a body) → the model whose ids it takes.
REAL_IDS = {
    "office_id": Office, "office": Office,
    "branch_id": Branch, "branch": Branch,
    "grid_id": Grid, "grid": Grid,
    "household_id": Household, "household": Household,
    "resident_id": Resident,
    "member_id": PartyMember, "member": PartyMember,
    "link_id": LiaisonLink,
}


# ---- the format the schema names (lianhu.common.api: IdNumberIn) ---------------------------------------


@st.composite
def id_numbers(draw):
    """Valid numbers: 18 digits with GB 11643's check digit, or the legacy 15; born 1930-2000 (so a member
    is of age), in counties of the area and elsewhere."""
    region = draw(st.sampled_from(["410173", "410184", "360426", "110101"]))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2000, 12, 31)))
    serial = draw(st.integers(0, 999))
    if draw(st.booleans()):
        return f"{region}{born:%y%m%d}{serial:03d}"
    body = f"{region}{born:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


schemathesis.openapi.format("gb11643", id_numbers())


# ---- rules JSON Schema cannot state -----------------------------------------------------------------
# They are in the operations' descriptions; a request that breaks one is rightly refused (422), so a case
# generated as valid that breaks one is not sent as valid.


def _of_age(born: dt.date) -> bool:
    today = timezone.localdate()
    return born <= today.replace(year=today.year - PARTY_AGE, day=min(today.day, 28))


def _breaks_a_date_rule(case) -> bool:
    """A member younger than 18, or joined before his birth (both sent); an exemption dated in the future.

    Only what the request says: a date that clashes with one on record is a conflict (409), which a valid
    request may get."""
    body = case.body if isinstance(case.body, dict) else {}

    def sent(name):
        return dt.date.fromisoformat(body[name]) if isinstance(body.get(name), str) else None

    path = case.operation.path
    if path.endswith("/exempt"):
        return sent("since") is not None and sent("since") > timezone.localdate()
    if not path.startswith("/api/v1/members") or path.endswith("/search"):
        return False
    born, joined = sent("birth_date"), sent("joined_party_on")
    return (born is not None and not _of_age(born)) or (born is not None and joined is not None and joined < born)


@schema.hook
def filter_case(context, case):
    return case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE or not _breaks_a_date_rule(case)


# ---- real objects -----------------------------------------------------------------------------------


def _slots(case):
    """(container, name) of every parameter of `case` that names an object, where it was generated valid:
    an id in a part made invalid on purpose may be what makes it invalid."""
    parts = [(ParameterLocation.PATH, case.path_parameters), (ParameterLocation.QUERY, case.query),
             (ParameterLocation.BODY, case.body if isinstance(case.body, dict) else None)]
    return [(container, name) for location, container in parts
            if container and not (case.meta and case.meta.is_negative_at(location))
            for name in container if name in REAL_IDS]


@schema.hook
def flatmap_case(context, case):
    """Each id of the case is left as generated or replaced by the id of an object that exists now."""
    slots = _slots(case)
    if not slots:
        return st.just(case)
    choices = [st.sampled_from(list(REAL_IDS[name].objects.order_by("pk").values_list("pk", flat=True))) | st.none()
               for _container, name in slots]

    def put(picked):
        for (container, name), pk in zip(slots, picked):
            if pk is not None:
                container[name] = pk
        return case

    return st.tuples(*choices).map(put)


# ---- what ran ---------------------------------------------------------------------------------------

RAN: dict[tuple[str, str], collections.Counter] = {}


@pytest.fixture(scope="module")
def tally(request):
    yield RAN
    if not RAN:
        return
    statuses = collections.Counter()
    for counter in RAN.values():
        statuses.update(counter)
    operations = {operation for operation, _persona in RAN}
    lines = [f"schemathesis: {len(operations)} operations × {len(RAN) // len(operations)} personas, "
             f"{sum(statuses.values())} requests; answered "
             + ", ".join(f"{status} × {n}" for status, n in sorted(statuses.items()))]
    lines += [f"  {operation:40} {persona:13} " + " ".join(f"{s}×{n}" for s, n in sorted(counter.items()))
              for (operation, persona), counter in sorted(RAN.items())]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


@pytest.fixture
def connection_kept():
    """Requests go through the WSGI application itself, whose end closes the database connection
    (close_old_connections), the test's transaction with it on PostgreSQL: kept open, as Django's test
    client keeps it."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=PERSONAS)
def persona(request, world, connection_kept):
    _token, key = ApiToken.issue(user=getattr(world, request.param), name="schemathesis")
    return request.param, {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                HealthCheck.filter_too_much])
def test_the_api_answers_as_its_schema_says(case, persona, tally):
    name, headers = persona
    response = case.call(headers=headers)
    operation = f"{case.operation.method.upper()} {case.operation.path.removeprefix('/api/v1')}"
    tally.setdefault((operation, name), collections.Counter())[response.status_code] += 1
    case.validate_response(response, headers=headers)


def test_every_operation_of_the_api_is_tested():
    """A schema that lost its operations (or a filter that left none) would make the run above pass empty."""
    from config.api import api

    documented = {(method.upper(), path) for path, item in api.get_openapi_schema()["paths"].items()
                  for method in item}
    tested = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert len(documented) > 20
    assert tested == documented


# ---- the schema states the models' limits -------------------------------------------------------------


def _model_limits(model, field_name) -> dict:
    """The JSON Schema keywords a model field's own limits come to: maxLength, minimum, maximum."""
    from django.core.validators import MaxValueValidator, MinValueValidator

    field = model._meta.get_field(field_name)
    if field.choices:  # an enum in the schema
        return {}
    limits = {"maxLength": field.max_length} if getattr(field, "max_length", None) else {}
    for validator in field.validators:  # the strictest, if the database's own range is there too
        if isinstance(validator, MinValueValidator):
            limits["minimum"] = max(validator.limit_value, limits.get("minimum", validator.limit_value))
        elif isinstance(validator, MaxValueValidator):
            limits["maximum"] = min(validator.limit_value, limits.get("maximum", validator.limit_value))
    return limits


def _stated(prop: dict) -> dict:
    branch = next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)
    return {k: branch[k] for k in ("maxLength", "minimum", "maximum") if k in branch}


BODIES = [("HouseholdCreate", Household), ("HouseholdUpdate", Household), ("ResidentCreate", Resident),
          ("ResidentUpdate", Resident), ("MemberCreate", PartyMember), ("MemberUpdate", PartyMember)]


@pytest.mark.parametrize("name,model", BODIES, ids=[b[0] for b in BODIES])
def test_every_limit_of_the_model_is_stated_in_the_schema(name, model):
    """A client learns a length or a range from the schema, not from a 422 (schemathesis sends the limits)."""
    from config.api import api

    properties = api.get_openapi_schema()["components"]["schemas"][name]["properties"]
    model_fields = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    checked = [prop for prop in properties if prop in model_fields and _model_limits(model, prop)]
    assert checked
    for prop in checked:
        assert _model_limits(model, prop).items() <= _stated(properties[prop]).items(), (name, prop)


# ---- what schemathesis found, each pinned by a test --------------------------------------------------


def _api(client, method, url, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method, "/api/v1" + url, data, content_type="application/json")


@pytest.mark.parametrize("body", ["4", "null", "[]", '"甲村"'])
def test_a_body_that_is_no_json_object_is_400_not_an_empty_patch(world, client_for, body):
    """ninja read them as {}: a PATCH that changed nothing, answered 200."""
    response = _api(client_for(world.secretary_a), "PATCH", f"/households/{world.household_a.pk}", body)
    assert (response.status_code, response.json()) == (400, {"detail": "请求内容无法解析：应为 JSON 对象"})


@pytest.mark.parametrize("field,value", [("lng", False), ("floors", "3"), ("self_built", "yes"), ("grid", True)])
def test_a_value_of_another_json_type_is_refused_not_converted(world, client_for, field, value):
    """pydantic's lax mode took false for 0.0 and "3" for 3: 201 for what the schema calls invalid."""
    body = {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "甲村一组9号", field: value}
    response = _api(client_for(world.secretary_a), "POST", "/households", body)
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == [field]
    assert not Household.objects.filter(address="甲村一组9号").exists()


def test_an_integer_written_with_a_zero_fraction_is_an_integer(world, client_for):
    """JSON Schema counts 6.0 as an integer, so the API does too."""
    body = {"branch": world.branch_a.pk, "grid": world.grid_a.pk, "address": "甲村一组9号", "floors": 6.0}
    response = _api(client_for(world.secretary_a), "POST", "/households", body)
    assert (response.status_code, response.json()["floors"]) == (201, 6)


@pytest.mark.parametrize("value", [0, "2000-01-01T00:00:00", "20000101"])
def test_a_date_is_written_as_a_date(world, client_for, value):
    response = _api(client_for(world.secretary_a), "PATCH", f"/residents/{world.resident_a.pk}", {"birth_date": value})
    assert (response.status_code, response.json()["errors"]) == (422, {"birth_date": ["应为日期，格式 YYYY-MM-DD"]})


@pytest.mark.parametrize("method,url,body", [
    ("PATCH", "/households/{household_a}", {"address": "甲村\x00一组"}),
    ("POST", "/residents", {"household": "{household_a}", "name": "王\x00小明", "gender": "M"}),
    ("PATCH", "/members/{member_a}", {"post": "\x00"}),
    ("GET", "/residents?q=%00", None),
    ("GET", "/households?q=%E7%94%B2%00", None),
])
def test_a_nul_in_text_is_refused_and_never_reaches_the_database(world, client_for, method, url, body):
    """PostgreSQL cannot store a NUL in a text column nor compare with one: it was a 500 there."""
    url = url.format_map(PksOf(world))
    if body:
        body = {k: (int(v.format_map(PksOf(world))) if isinstance(v, str) and v.startswith("{") else v)
                for k, v in body.items()}
    response = _api(client_for(world.secretary_a), method, url, body or "")
    assert response.status_code == 422, response.content


def test_an_if_match_that_names_no_tag_is_422_and_a_blank_one_is_no_condition(world, client_for):
    client = client_for(world.secretary_a)
    url = f"/api/v1/households/{world.household_a.pk}"
    for header, status in (("history", 422), ("W/1764", 422), ("", 200), ("  ", 200), ('W/"1"', 412)):
        response = client.patch(url, data={"notes": header}, content_type="application/json",
                                headers={"If-Match": header})
        assert response.status_code == status, (header, response.content)


def test_a_member_born_so_late_that_he_turns_18_after_year_9999_is_refused_not_a_500(world, client_for):
    """The 18th birthday of one born in 9990 is in no year Python knows: party_age_problem raised ValueError."""
    body = {"branch": world.branch_a.pk, "name": "王建设", "gender": "M", "birth_date": "9990-01-01",
            "joined_party_on": "9995-01-01"}
    response = _api(client_for(world.secretary_a), "POST", "/members", body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"birth_date": ["未满 18 周岁，不能登记为党员，请核对出生日期"]}


def test_a_joining_date_before_the_birth_date_on_record_is_a_conflict_both_sent_a_bad_request(world, client_for):
    client = client_for(world.secretary_a)
    url = f"/members/{world.member_a.pk}"
    assert _api(client, "PATCH", url, {"birth_date": "1970-05-05"}).status_code == 200
    assert _api(client, "PATCH", url, {"joined_party_on": "1968-07-01"}).status_code == 409
    both = {"birth_date": "1970-05-05", "joined_party_on": "1968-07-01"}
    assert _api(client, "PATCH", url, both).status_code == 422


def test_the_openapi_document_describes_each_error_status_in_chinese(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/households/{household_id}"]["patch"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "409", "412", "422"}
    assert operation["responses"]["409"]["description"].startswith("与已保存的数据冲突")
    invalid = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert invalid == {"$ref": "#/components/schemas/Invalid"}
