"""Shared API pieces: base viewsets, the one error format, OpenAPI error shapes.

The permission class and the pagination live in travelcrm/permissions.py (DRF imports them
from settings while rest_framework.views is still loading, so they must not import views).

Every app's viewsets derive from BaseViewSet / BaseModelViewSet so authentication, pagination,
filtering, the error format and the permission check are fixed in one place (house rule 5).
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import path
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    build_examples_list,
    build_listed_example_value,
    force_instance,
    get_override,
    is_serializer,
)
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView, set_rollback
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.db import is_query_timeout, is_write_conflict
from apps.core.errors import BusinessError
from apps.core.heavy import HeavyRequestMixin, ServerBusy
from travelcrm.logging import current_request_id
from travelcrm.openapi_examples import example_for, response_example_for
from travelcrm.pagination import ListPagination
from travelcrm.permissions import RolePermission

logger = logging.getLogger("travelcrm.api")

# --- Error format ------------------------------------------------------------------------------------

_DEFAULT_DETAILS = {
    400: "Проверьте введённые данные.",
    401: "Требуется авторизация.",
    403: "Недостаточно прав для этого действия.",
    404: "Не найдено.",
    405: "Метод не поддерживается.",
    406: "Неподдерживаемый формат ответа.",
    409: "Конфликт с текущим состоянием данных.",
    413: "Слишком большой запрос.",
    415: "Неподдерживаемый тип содержимого.",
    429: "Слишком много запросов. Повторите попытку позже.",
    500: "Внутренняя ошибка сервера. Сообщите администратору номер запроса.",
}


def error_body(code: str, detail: str, fields: dict | None = None, **extra) -> dict:
    body = {"code": code, "detail": str(detail), "fields": fields or {}}
    body.update(extra)
    return body


def _flatten_fields(data, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"field.sub": ["message", ...]}."""
    result: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            result.update(_flatten_fields(value, name))
    elif isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            result[prefix or "non_field_errors"] = [str(item) for item in data]
        else:
            for index, item in enumerate(data):
                if item:
                    result.update(_flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        result[prefix or "non_field_errors"] = [str(data)]
    return result


def _django_validation_fields(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): [str(m) for m in messages]
            for key, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _first_code(detail) -> str | None:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None)


QUERY_TIMEOUT_DETAIL = (
    "Запрос выполнялся слишком долго и был прерван. Сузьте период или фильтры и повторите."
)
WRITE_CONFLICT_DETAIL = (
    "Эти данные одновременно меняли в другом окне или другой пользователь; ничего не сохранено. Повторите действие."
)


def exception_handler(exc, context):
    """DRF exception handler: every error becomes {"code", "detail", "fields"} with a 4xx/5xx."""
    if is_query_timeout(exc):
        set_rollback()
        logger.warning("query cancelled by statement_timeout")
        return Response(error_body("query_timeout", QUERY_TIMEOUT_DETAIL), status=503, headers={"Retry-After": "30"})
    if is_write_conflict(exc):
        set_rollback()
        logger.warning("transaction aborted by a write conflict (deadlock or serialization failure)")
        return Response(error_body("write_conflict", WRITE_CONFLICT_DETAIL), status=503, headers={"Retry-After": "1"})
    if isinstance(exc, BusinessError):
        return Response(
            error_body(exc.code, exc.detail, exc.fields, **exc.extra), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        fields = _django_validation_fields(exc)
        return Response(error_body("validation_error", _DEFAULT_DETAILS[400], fields), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("request_too_large", _DEFAULT_DETAILS[413]), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError()

    response = drf_exception_handler(exc, context)
    if response is None:
        # Unhandled: log the traceback (scrubbed by the logging filter), answer without it.
        set_rollback()
        logger.error("unhandled error in API view", exc_info=exc)
        return Response(
            error_body("server_error", _DEFAULT_DETAILS[500], request_id=current_request_id()), status=500
        )

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        code = "validation_error"
        detail = _DEFAULT_DETAILS[400]
        if list(fields) == ["non_field_errors"] and len(fields["non_field_errors"]) == 1:
            detail = fields["non_field_errors"][0]
    else:
        code = _first_code(exc.detail) or exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else _DEFAULT_DETAILS.get(response.status_code, str(exc))
        fields = {}
        if isinstance(exc.detail, dict) and "detail" in exc.detail:
            detail = exc.detail["detail"]
    if getattr(exc, "wait", None):  # Throttled, ServerBusy
        response["Retry-After"] = str(int(exc.wait))
    response.data = error_body(code, detail, fields)
    return response


def _json_error(status_code: int, code: str, detail: str | None = None, **extra) -> JsonResponse:
    return JsonResponse(
        error_body(code, detail or _DEFAULT_DETAILS[status_code], **extra),
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


# Codes for errors Django answers itself (unknown URL, handler500, DEBUG pages) under /api/.
_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
}


class ApiErrorMiddleware:
    """Keeps /api/ in the JSON error format where DRF's exception handler does not reach.

    - A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (multipart uploads excepted: Django limits
      their fields, the apps their files) is refused with 413 before any view reads it; DRF reads
      the stream itself and would not notice.
    - An HTML error page (an unknown URL, a non-DRF view failing, DEBUG's technical pages) is
      replaced by the JSON error body; 500 carries the request id and never a traceback.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if self._body_too_large(request):
            return _json_error(413, "request_too_large")
        if self._carries_nul(request):
            return _json_error(400, "nul_character", "Запрос содержит недопустимый символ NUL (\\u0000).")
        response = self.get_response(request)
        if response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            status_code = response.status_code
            extra = {"request_id": current_request_id()} if status_code >= 500 else {}
            replacement = _json_error(
                status_code,
                _STATUS_CODES.get(status_code, "error"),
                _DEFAULT_DETAILS.get(status_code, response.reason_phrase),
                **extra,
            )
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request, exception):
        """A query cancelled by statement_timeout, or a transaction aborted by a deadlock, outside DRF
        (admin pages): 503 with what to do, not a 500."""
        if is_query_timeout(exception):
            code, detail, retry_after = "query_timeout", QUERY_TIMEOUT_DETAIL, "30"
        elif is_write_conflict(exception):
            code, detail, retry_after = "write_conflict", WRITE_CONFLICT_DETAIL, "1"
        else:
            return None
        logger.warning("request aborted by the database", extra={"code": code})
        if request.path.startswith("/api/"):
            response = _json_error(503, code, detail)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = retry_after
        return response

    @staticmethod
    def _carries_nul(request) -> bool:
        """PostgreSQL stores no NUL character in text or JSON: one in the query string or a form / JSON
        body would fail deep inside (the login's lockout record, an export's audit entry) as a 500.
        Refused at the door instead; file uploads (multipart) are not read here."""
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
            return True
        if request.method in ("GET", "HEAD", "OPTIONS") or request.content_type.startswith("multipart/"):
            return False
        if request.path.startswith("/api/v1/integrations/"):
            return False  # webhooks: a customer's message is stored as sent (encrypted), never refused
        body = request.body
        return b"\x00" in body or b"%00" in body or b"\\u0000" in body

    @staticmethod
    def _body_too_large(request) -> bool:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type.startswith("multipart/"):
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > limit


def not_found_view(request, exception=None):
    """handler404: JSON for the API, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return _json_error(404, "not_found")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error_view(request):
    """handler500: JSON with the request id for the API, never a traceback."""
    if request.path.startswith("/api/"):
        return _json_error(500, "server_error", request_id=current_request_id())
    from django.views.defaults import server_error

    return server_error(request)


def bad_request_view(request, exception=None):
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return _json_error(413, "request_too_large")
        return _json_error(400, "bad_request")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def permission_denied_view(request, exception=None):
    if request.path.startswith("/api/"):
        return _json_error(403, "permission_denied")
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


class ErrorSerializer(serializers.Serializer):
    """The one error format of the API."""

    code = serializers.CharField(help_text="Machine-readable error code, e.g. validation_error.")
    detail = serializers.CharField(help_text="Human-readable message (Russian).")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages: {field: [message, ...]}.",
    )
    request_id = serializers.CharField(required=False, help_text="Present on 500 errors.")


# --- Base viewsets ---------------------------------------------------------------------------------


def bind_audit_actor(request) -> None:
    """django-auditlog's middleware runs before DRF authenticates a JWT; name the actor now."""
    from auditlog.context import auditlog_value

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    context = auditlog_value.get(None)
    if context is not None and context.get("actor") is None:
        context["actor"] = user


# The one base of every API view (house rule 5): the role permission and the audit actor.
#
# Every DRF view of the project — viewsets and plain APIViews alike — derives from it (directly
# or through BaseViewSet / BaseAPIView); tests/test_api_base.py walks the URL conf and fails on
# any view outside it. A view never sets `permission_classes` itself:
#
# - staff views declare what they need through RolePermission: the model of `queryset`,
#   `action_permissions = {"confirm": [...]}` or `required_permissions = [...]`
#   (`[]` = any signed-in user);
# - the few public views (token endpoints, webhooks, the public lead API, the schema) set
#   `public = True` and check their caller themselves (password, signature, throttle).
#
# `initial()` names the audit actor once the user is authenticated: django-auditlog's
# middleware runs before DRF reads a JWT, so without this a JWT write had no actor.
class ApiViewMixin:
    public = False
    deprecated_path = False  # set by travelcrm.api.deprecated_path() on an old spelling of a path

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "permission_classes" in cls.__dict__ or "get_permissions" in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__}: the permission comes from travelcrm.api.ApiViewMixin; declare "
                "required_permissions / action_permissions, or public = True for an open endpoint."
            )
        cls.permission_classes = [AllowAny] if cls.public else [RolePermission]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        bind_audit_actor(request)
        self._refuse_non_object_body(request)

    def _refuse_non_object_body(self, request) -> None:
        """Every JSON body of the API is an object: `null`, a list or a bare string is refused at the
        door (a view reading `request.data or {}` would take `null` for "no fields"). Public views
        (webhooks, the web form) read their bodies themselves."""
        if self.public or request.method not in ("POST", "PUT", "PATCH"):
            return
        if not (request.content_type or "").startswith("application/json"):
            return
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Тело запроса должно быть JSON-объектом."]})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.deprecated_path:
            response["Deprecation"] = "true"  # RFC 9745: the path answers, but goes away next release
        return response

    def handle_exception(self, exc):
        """An error is JSON whatever `?format=` chose (csv, xlsx, pdf): a file renderer would lose the
        fields, and the middleware could only answer a bare «bad_request»."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


def deprecated_path(route: str, view_class, actions: dict | None = None, **initkwargs):
    """An old spelling of a path (`mark_paid`, no trailing slash) that keeps answering for one more
    release: the same view, left out of the OpenAPI schema, with a `Deprecation: true` header.
    docs/api.md lists these paths under «Устаревшие пути»."""
    if actions is not None:
        view = view_class.as_view(actions, deprecated_path=True, **initkwargs)
    else:
        view = view_class.as_view(deprecated_path=True, **initkwargs)
    return path(route, view)


# A plain API view (no model CRUD): reports, exports, imports, auth endpoints. (Comments, not
# docstrings, on the bases: drf-spectacular would show a base's docstring as each operation's text.)
class BaseAPIView(ApiViewMixin, APIView):
    pass


class BaseViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pagination_class = ListPagination


class BaseModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    BaseViewSet,
):
    """CRUD viewset. Subclasses route writes through services (perform_create/update/destroy)."""


class BaseReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, BaseViewSet):
    pass


# --- Dates at the door -----------------------------------------------------------------------------
# A typo such as year 0048 or 20260 parses as a valid date; stored, it comes back with a local mean
# time offset (+02:30:17 in Moscow before 1919) or breaks a report. Input dates and times of the API
# carry this validator, so they are refused with a 400 before a service sees them.
SANE_YEARS = (1900, 2200)


def sane_year(value) -> None:
    if value is not None and not SANE_YEARS[0] <= value.year <= SANE_YEARS[1]:
        raise serializers.ValidationError(f"Год должен быть между {SANE_YEARS[0]} и {SANE_YEARS[1]}.")


# --- Strict JSON types at the door -----------------------------------------------------------------
# DRF's CharField turns a JSON number into text (`"notes": 5` is stored as "5") and its BooleanField
# reads "0", 1 or "yes" as a boolean: an integrator's bug becomes data that means something else,
# and the schema (`type: string`, `type: boolean`) documents an input the server does not keep to.
# Every serializer of the API uses these two fields (explicitly, or through BaseModelSerializer's
# mapping), so JSON bodies are held to their documented types. A form or multipart body and a query
# string carry only text: there DRF's parsing of "true" / "on" / "1" still applies.


def _from_form(dictionary) -> bool:
    return html.is_html_input(dictionary)


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Ожидается строка."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Ожидается логическое значение: true или false."}
    _form_input = False

    def get_value(self, dictionary):
        self._form_input = _from_form(dictionary)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if self._form_input and isinstance(data, str):
            return super().to_internal_value(data)
        self.fail("invalid")


class BaseModelSerializer(serializers.ModelSerializer):
    """Model serializer of the API: model text and boolean fields become the strict fields above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }


# --- OpenAPI ---------------------------------------------------------------------------------------


# Russian summaries of the standard operations, for those without their own (extend_schema(summary=)).
_CRUD_SUMMARIES = {
    "list": "Список: {plural}",
    "retrieve": "Карточка: {name}",
    "create": "Создать: {name}",
    "update": "Изменить: {name}",
    "partial_update": "Изменить часть полей: {name}",
    "destroy": "Удалить: {name}",
}


class ErrorAwareAutoSchema(AutoSchema):
    """Every operation's error shapes and statuses, and a Russian summary, for endpoints written
    by anyone: what an operation can answer follows from its kind (list, write, detail, public)."""

    def is_excluded(self) -> bool:
        return getattr(self.view, "deprecated_path", False) or super().is_excluded()

    def get_summary(self):
        explicit = super().get_summary()
        if explicit:
            return explicit
        template = _CRUD_SUMMARIES.get(getattr(self.view, "action", None) or self._plain_action())
        model = self._model()
        if template and model is not None:
            meta = model._meta
            return template.format(plural=meta.verbose_name_plural, name=meta.verbose_name)
        return None

    def _plain_action(self) -> str:
        """What a plain (non-viewset) view's method does, named like a viewset's action."""
        method = self.method.upper()
        if method == "GET":
            return "list" if self._is_list_view() else "retrieve"
        return {"POST": "create", "PUT": "update", "PATCH": "partial_update", "DELETE": "destroy"}.get(method, "")

    def _model(self):
        queryset = getattr(self.view, "queryset", None)
        if queryset is not None:
            return queryset.model
        try:
            return self.view.get_queryset().model
        except Exception:  # noqa: BLE001, S110 — a queryset that needs a real request: use the serializer
            pass
        serializer = getattr(self.view, "serializer_class", None)
        return getattr(getattr(serializer, "Meta", None), "model", None)

    def _get_examples(self, serializer, direction, media_type, status_code=None, extras=None):
        """Hand-written examples first; otherwise one built from the serializer's fields
        (travelcrm.openapi_examples) for a request body and a success answer."""
        examples = super()._get_examples(serializer, direction, media_type, status_code, extras)
        if examples or (status_code and not str(status_code).startswith("2")) or serializer is ErrorSerializer:
            return examples
        if direction == "response" and not is_serializer(serializer):  # a free-form answer: written by hand
            value = response_example_for(self.get_operation_id(), status_code)
            # 202 is JSON under every media type (moved to application/json in get_operation).
            if value is None or (media_type != "application/json" and str(status_code) != "202"):
                return examples
            return build_examples_list([OpenApiExample("Пример", value=value, media_type=media_type)])
        value = example_for(serializer, direction)
        if not value:
            return examples
        if direction == "response" and self._is_list_view(serializer) and get_override(serializer, "many") is not False:
            item = value[0] if isinstance(value, list) and value else value
            value = build_listed_example_value(item, self._get_paginator(), direction)
        return build_examples_list([OpenApiExample("Пример", value=value, media_type=media_type)])

    def map_parsers(self):
        """Request bodies are documented as JSON, or as multipart/form-data when they carry a file.
        The form parsers still answer (browsers, old scripts), but a form has no types: `0` for a
        boolean, `null` for a number would be a documented input that means something else."""
        media = super().map_parsers()
        if "application/json" not in media:
            return media
        if self._uploads_files():
            return [m for m in media if m == "multipart/form-data"] or media
        return ["application/json"]

    def _uploads_files(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        fields = getattr(serializer, "fields", None) or {}
        return any(isinstance(field, serializers.FileField) for field in fields.values())

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        # A paged GET that is not a model list (a report): a page past the end is a 404 too.
        paged = any(parameter.get("name") == "page" for parameter in (operation or {}).get("parameters", []))
        if paged and "404" not in operation["responses"]:
            operation["responses"]["404"] = self._get_response_for_code(
                OpenApiResponse(response=ErrorSerializer, description="Страница за последней: такой страницы нет."),
                "404",
            )
        # An optional query parameter sent empty (`?date_to=`) means "not set", as in an HTML form:
        # django-filter and DRF skip it, so the schema says an empty value is allowed.
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        # Errors are JSON whatever the success renders as (a CSV, a PDF): see ApiViewMixin.handle_exception;
        # so is 202, a file handed to a background job (apps/finance/api/background.started).
        for code, response in (operation or {}).get("responses", {}).items():
            content = response.get("content")
            if (code[0] in "45" or code == "202") and content and "application/json" not in content:
                response["content"] = {"application/json": next(iter(content.values()))}
        return operation

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        wanted = {} if self._is_public() else {"401": _DEFAULT_DETAILS[401], "403": _DEFAULT_DETAILS[403]}
        method = self.method.upper()
        # Any request can be refused at the door (a NUL character, a malformed query parameter), and
        # any can name something that is not there (an id in the path, the body or a filter, a format).
        wanted["400"] = _DEFAULT_DETAILS[400]
        wanted["404"] = _DEFAULT_DETAILS[404]
        if method != "GET" and not self._is_public():
            wanted["409"] = _DEFAULT_DETAILS[409]  # a business rule refused the change (state, duplicate)
            wanted["404"] = "Объект из пути или из тела запроса не найден."
        if method == "GET" and self._is_list_view():
            wanted["400"] = "Неверное значение фильтра, сортировки или номера страницы."
            wanted["404"] = "Страница за последней: такой страницы нет."
        if "{" in self.path:
            wanted.setdefault("404", _DEFAULT_DETAILS[404])
        wanted["429"] = _DEFAULT_DETAILS[429]
        if isinstance(self.view, HeavyRequestMixin):  # every heavy slot taken: 503 server_busy, Retry-After
            wanted["503"] = ServerBusy.default_detail
        wanted["500"] = _DEFAULT_DETAILS[500]
        for code, description in wanted.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=description), code, direction=direction
                )
        return responses

    def _is_public(self) -> bool:
        return any(cls is AllowAny for cls in getattr(self.view, "permission_classes", []))

