"""API base: JSON without \\u escapes, scoped lookups, one error shape.

Every error answers {"detail": "<中文说明>"}; validation errors add {"errors": {field: [messages]}},
whether they come from the request schema or from a service's `ValidationError`. So do errors that
happen before ninja sees the request (an unknown path under /api/: `lianhu.common.views.page_not_found`)
and exceptions nothing handled (500, logged as Django logs a page's). A service's refusal because of the
stored data (`lianhu.common.conflicts`: a number already registered, a link already ended) is 409, a
refusal of what was sent 422.

Each operation documents every status it can answer (`errors(...)`), with its shape, and states its
limits (lengths, ranges, page sizes) in the schema: tests/test_api_schema.py runs schemathesis over the
OpenAPI document, and tests/test_api_statuses.py provokes each documented status of each operation.

Records that are edited carry a version (`lianhu.common.versions`): their GET and PATCH give it as a
weak `ETag`, and a PATCH with an `If-Match` naming another version answers 412 and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Annotated

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from django.utils.http import parse_etags
from ninja import Field, Header, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.pagination import PageNumberPagination
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from pydantic import BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError

from lianhu.common.conflicts import is_conflict
from lianhu.common.http import MAX_PK, parse_pk
from lianhu.common.masking import age_this_year
from lianhu.common.versions import StaleVersion, version_of

logger = logging.getLogger("django.request")  # where Django logs a page's 500 (and mails it to ADMINS)


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class ObjectParser(Parser):
    """Every body of this API is a JSON object. ninja would read `4`, `null` or `[]` as an empty one (a
    PATCH that changes nothing, answered 200); refused here, it is the 400 of a body that is no JSON."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        return data


class LianhuAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return describe_error_statuses(super().get_openapi_schema(*args, **kwargs))


# The authentication (accounts' tokens and sessions) and the routers are added in config/api.py.
api = LianhuAPI(
    title="联户 API",
    version="1",
    description="办事处、支部、网格、户、居民、党员与联系关系。令牌认证：Authorization: Bearer <令牌>。",
    renderer=ChineseJSONRenderer(),
    parser=ObjectParser(),
    urls_namespace="api",
)


# config/urls.py mounts the API at /api/v1/; Django's own 404 and 500 under /api/ answer JSON too.
API_PATH_PREFIX = "/api/"

# An object's id in a query string (?branch=, ?household= …): a number beyond the database's integer
# range is refused with 422 ("数值太大") instead of reaching the database (OverflowError on SQLite,
# "bigint out of range" on PostgreSQL). Ids in paths and bodies are looked up with `scoped_get`: 404.
Id = Annotated[int, Field(ge=1, le=MAX_PK)]

# A body's numbers, booleans and dates are read as the JSON types the schema states. pydantic's lax mode
# would take true for 1, "5" for 5, "yes" for true and 0 for 1970-01-01: answers 201 to what the schema
# calls invalid. (Query strings and paths are text by nature and stay lax: ?page=2.) An integer may come
# as 54.0, which JSON Schema counts as one.
def _json_number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):  # True is an int to Python
        raise PydanticCustomError("float_type", "应为数字")
    return value


def _json_integer(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "应为整数")
    return value


def integer(**limits):
    """A body's integer, with its limits (ge=, le=) stated in the schema."""
    return Annotated[int, Field(**limits), BeforeValidator(_json_integer)]  # limits first, or the schema loses them


def number(**limits):
    """A body's number, with its limits stated in the schema."""
    return Annotated[float, Field(**limits), BeforeValidator(_json_number)]


Int, Float, Bool = integer(), number(), StrictBool


def _iso_date_text(value):
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise PydanticCustomError("date_parsing", "应为日期，格式 YYYY-MM-DD")


Date = Annotated[dt.date, BeforeValidator(_iso_date_text)]

# Text from a client carries no NUL: PostgreSQL cannot store one in a text column (a 500, not a refusal).
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

# An ID number and a phone as people type them (common.validators reads them: full-width digits, blanks,
# separators, a country code), stated as patterns; the format "gb11643" names what no pattern can state,
# the check digit and a real birth date.
_D, _SEP = "[0-9０-９]", "[ ()（）-]*"
ID_NUMBER_PATTERN = rf"^( *{_D}){{17}} *[0-9０-９XxＸｘ] *$|^( *{_D}){{15}} *$|^ *[A-Z]{{3}}[0-9]{{12}} *$"
PHONE_PATTERN = (rf"^{_SEP}((\+86|0086|86){_SEP})?[1１]{_SEP}[3-9３-９]({_SEP}{_D}){{9}}{_SEP}$"
                 rf"|^{_SEP}((\+86|0086){_SEP})?[0０]({_SEP}{_D}){{9,11}}{_SEP}$")
IdNumberIn = Annotated[str, Field(pattern=ID_NUMBER_PATTERN, json_schema_extra={"format": "gb11643"},
                                  description="身份证号（GB 11643）：18 位，末位为校验码（可为 X）且含真实的出生日期；"
                                              "或旧版 15 位、外国人永久居留证号。可含空格、全角数字")]
PhoneIn = Annotated[str, Field(pattern=PHONE_PATTERN, description="11 位手机号，或带区号的固定电话；可带 +86，"
                                                                  "可含空格、短横线、括号、全角数字")]

# Far beyond any list (200 rows a page), and (page - 1) × page size stays a valid OFFSET.
MAX_PAGE = 1_000_000_000
MAX_PAGE_SIZE = 200


class Page(PageNumberPagination):
    """?page=2&page_size=100: 50 rows by default, at most 200 (more is 422); a page past the last is empty."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE, description="每页条数，默认 50，最多 200")

    def __init__(self, page_size: int = 50, max_page_size: int = MAX_PAGE_SIZE, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)


def scoped_get(request, model, pk, action: str = "view", *, queryset=None):
    """The API's only way to fetch one object: through the scoped queryset, so out of scope is 404.

    `queryset` (of `model`) adds select_related or annotations; the scope is applied to it all the same.
    An id beyond the database's range (a path's, or a body's foreign key) is no object either: 404.
    """
    pk = parse_pk(pk)
    if pk is None:
        raise Http404
    queryset = model.objects.all() if queryset is None else queryset
    obj = queryset.visible_to(request.user, action).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


ERROR_DETAILS = {
    400: "请求无效",
    403: "无权进行此操作",
    404: "未找到，或不在您的管辖范围内",
    500: "服务器内部错误",
}


def error_response(request, status: int):
    """The API's error shape for a status that says it all: {"detail": "<中文说明>"}."""
    return api.create_response(request, {"detail": ERROR_DETAILS[status]}, status=status)


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


class Detail(Schema):
    """An error: what went wrong, in Chinese."""

    detail: str


class Invalid(Schema):
    """A refused request (422) or write (409): the messages by field, "__all__" for the whole."""

    detail: str
    errors: dict[str, list[str]]


# What each error status means for this API, and its shape. `errors(...)` puts them in an operation's
# `response`, so that the OpenAPI document lists every status the operation can answer.
ERROR_STATUSES = {
    400: (Detail, "请求体不是 JSON 对象，或请求超出大小、参数个数的限制"),
    401: (Detail, "未登录，或接口令牌无效、已吊销"),
    403: (Detail, "以登录会话调用、写操作未带 CSRF 令牌"),
    404: (Detail, "对象不存在，或不在您的管辖范围内（编号超出范围亦同）"),
    409: (Invalid, "与已保存的数据冲突（如身份证号已登记、联系关系已结束），请求本身无误"),
    412: (Detail, "If-Match 所指的版本已过时：记录已被他人修改，未写入"),
    422: (Invalid, "请求内容不符合要求，按字段列出原因"),
    429: (Detail, "身份证号查询过于频繁（每小时次数见 LIANHU_ID_LOOKUP_LIMIT），已记录并通知办事处"),
}


def errors(*statuses: int) -> dict[int, type[Schema]]:
    """The error answers of an operation for its `response`: 401 (every operation) and `statuses`."""
    return {status: ERROR_STATUSES[status][0] for status in sorted({401, *statuses})}


def describe_error_statuses(schema: dict) -> dict:
    """The OpenAPI document with each error answer described by what it means here, not "Unauthorized"."""
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if int(status) in ERROR_STATUSES:
                    response["description"] = ERROR_STATUSES[int(status)][1]
    return schema


# An operation's `if_match: IfMatch = None`: documented in OpenAPI, read with `expected_versions(if_match)`.
# "*" or a list of entity tags (RFC 9110), blank as if absent; anything else is refused (422) rather than
# matching nothing. Typed str with the default None: a header is absent or a string, never null.
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)?\s*$'
IfMatch = Header[str, {
    "alias": "If-Match",
    "pattern": IF_MATCH_PATTERN,
    "description": "上次读取时得到的 ETag，如 W/\"1764312345123456\"：记录已被他人修改则返回 412，不写入；"
                   "不带则只修改所提交的字段",
}]


def etag(obj) -> str:
    """A weak ETag: it names the record's version, not the bytes (what is shown depends on who asks)."""
    return f'W/"{version_of(obj)}"'


def expected_versions(if_match: str | None) -> set[str] | None:
    """The versions an If-Match header accepts: None for no header, a blank one or "*" (any version will do).

    Weak and strong tags compare alike (the tags are weak; RFC 9110's strong comparison would
    make If-Match useless with them). A header that names no tag at all matches nothing.
    """
    if if_match is None or not if_match.strip():
        return None
    tags = parse_etags(if_match)
    if tags == ["*"]:
        return None
    return {tag.removeprefix("W/").strip('"') for tag in tags}


@api.exception_handler(StaleVersion)
def precondition_failed(request, exc):
    return api.create_response(request, {"detail": "已被他人修改"}, status=412)


@api.exception_handler(Http404)
def not_found(request, exc):
    return error_response(request, 404)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return error_response(request, 403)


@api.exception_handler(SuspiciousOperation)
def suspicious_operation(request, exc):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE and the like: 400, logged as Django logs a page's."""
    logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc), extra={"status_code": 400,
                                                                                           "request": request})
    return error_response(request, 400)


@api.exception_handler(Exception)
def server_error(request, exc):
    """Anything no handler above knows: JSON 500, logged and signalled as Django does for a page's.

    With DJANGO_DEBUG the exception goes on to Django's debug page instead.
    """
    if settings.DEBUG:
        raise exc
    got_request_exception.send(sender=None, request=request)
    logger.error("Internal Server Error: %s", request.path, exc_info=exc,
                 extra={"status_code": 500, "request": request})
    return error_response(request, 500)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    response = api.create_response(request, {"detail": "未登录，或接口令牌无效、已吊销"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """ninja's own errors (a body that is not JSON …) in Chinese, with the status they carry."""
    messages = {400: "请求内容无法解析：应为 JSON 对象", 403: ERROR_DETAILS[403], 405: "不支持该请求方法",
                429: "请求过于频繁，请稍后再试"}
    detail = messages.get(exc.status_code, str(exc))
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(DjangoValidationError)
def service_validation_error(request, exc: DjangoValidationError):
    """A service refused the write: its Chinese messages, by field ("__all__" for the whole); 409 when
    only the stored data stands in the way (lianhu.common.conflicts), else 422."""
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return api.create_response(request, {"detail": "；".join(exc.messages), "errors": by_field},
                               status=409 if is_conflict(exc) else 422)


SCHEMA_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "json_invalid": "不是有效的 JSON",
    "string_too_long": "太长",
    "value_error": "取值不正确",
    "bool_parsing": "应为 true 或 false",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不正确，或含有不允许的字符",
    "string_unicode": "含有无效的字符",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


@api.exception_handler(SchemaValidationError)
def schema_validation_error(request, exc: SchemaValidationError):
    """The request did not match the schema: the same shape as a service's refusal."""
    by_field: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "household") → "household"; ("query", "linked") → "linked"
        field_path = loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]
        message = SCHEMA_MESSAGES.get(error.get("type", ""), error.get("msg", ""))
        by_field.setdefault(".".join(field_path) or NON_FIELD_ERRORS, []).append(message)
    detail = "提交的数据有误：" + "；".join(f"{field} {', '.join(msgs)}" for field, msgs in by_field.items())
    return api.create_response(request, {"detail": detail, "errors": by_field}, status=422)


class PersonOut(Schema):
    """The birth year and the age this year, never the full birth date: with the masked ID number it
    would narrow the number down (security review, findings 1 and 3), and an age in whole years would
    tell the day it changes. The date is revealed one person at a time through the audited reveal
    (`field: "birth_date"`)."""

    birth_year: int | None
    age: int | None = Field(None, description="今年满多少岁（按出生年份计算）")

    @staticmethod
    def resolve_age(obj):
        return age_this_year(obj.birth_year)
