"""API base: JSON without \\u escapes, scoped lookups, one error shape.

Every error answers {"detail": "<中文说明>"}; validation errors add {"errors": {field: [messages]}},
whether they come from the request schema or from a service's `ValidationError`.
"""

from __future__ import annotations


from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.pagination import PageNumberPagination
from ninja.renderers import JSONRenderer

from lianhu.common.masking import age_on


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


# The authentication (accounts' tokens and sessions) and the routers are added in config/api.py.
api = NinjaAPI(
    title="联户 API",
    version="1",
    description="办事处、支部、网格、户、居民、党员与联系关系。令牌认证：Authorization: Bearer <令牌>。",
    renderer=ChineseJSONRenderer(),
    urls_namespace="api",
)


class Page(PageNumberPagination):
    """?page=2&page_size=100: 50 rows by default, at most 200."""

    def __init__(self, page_size: int = 50, max_page_size: int = 200, **kwargs):
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)


def scoped_get(request, model, pk, action: str = "view", *, queryset=None):
    """The API's only way to fetch one object: through the scoped queryset, so out of scope is 404.

    `queryset` (of `model`) adds select_related or annotations; the scope is applied to it all the same.
    """
    queryset = model.objects.all() if queryset is None else queryset
    obj = queryset.visible_to(request.user, action).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "未找到，或不在您的管辖范围内"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    response = api.create_response(request, {"detail": "未登录，或接口令牌无效、已吊销"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """ninja's own errors (a body that is not JSON …) in Chinese, with the status they carry."""
    messages = {400: "请求内容无法解析：应为 JSON", 405: "不支持该请求方法", 429: "请求过于频繁，请稍后再试"}
    detail = messages.get(exc.status_code, str(exc))
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(DjangoValidationError)
def service_validation_error(request, exc: DjangoValidationError):
    """A service refused the write: 422 with its Chinese messages, by field ("__all__" for the whole)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return api.create_response(request, {"detail": "；".join(exc.messages), "errors": errors}, status=422)


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
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


@api.exception_handler(SchemaValidationError)
def schema_validation_error(request, exc: SchemaValidationError):
    """The request did not match the schema: the same shape as a service's refusal."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "household") → "household"; ("query", "linked") → "linked"
        field_path = loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]
        message = SCHEMA_MESSAGES.get(error.get("type", ""), error.get("msg", ""))
        errors.setdefault(".".join(field_path) or NON_FIELD_ERRORS, []).append(message)
    detail = "提交的数据有误：" + "；".join(f"{field} {', '.join(msgs)}" for field, msgs in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


class PersonOut(Schema):
    """The birth year and the age, never the full birth date: with the masked ID number it would give
    most of the number back (security review, finding 3). The date is revealed one person at a time
    through the audited reveal (`field: "birth_date"`)."""

    birth_year: int | None
    age: int | None

    @staticmethod
    def resolve_birth_year(obj):
        return obj.birth_date.year if obj.birth_date else None

    @staticmethod
    def resolve_age(obj):
        return age_on(obj.birth_date)
