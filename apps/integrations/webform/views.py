"""The public web form /form/ (HTML, embeddable in an iframe) and POST /api/v1/public/leads/."""

import logging

from csp.constants import NONCE, NONE, SELF
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.integrations.webform.forms import LeadForm
from apps.integrations.webform.handlers import lead_number_of, submit
from apps.integrations.webform.throttle import SubmissionLimit, client_ip
from travelcrm.api import BaseAPIView

logger = logging.getLogger("travelcrm.integrations.webform")
MAX_BODY_BYTES = 32 * 1024
TOO_MANY = "Слишком много заявок с вашего адреса. Попробуйте позже."


def public_page_policy() -> dict:
    """The Content-Security-Policy of the public pages (django-csp writes it; read per request).

    Framing: only this site and the agency's own sites in WEBFORM_FRAME_ANCESTORS. The page's only
    inline piece, its <style>, carries the request's nonce; no script runs at all.
    """
    return {
        "default-src": [NONE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "form-action": [SELF],
        "base-uri": [NONE],
        "frame-ancestors": [SELF, *getattr(settings, "WEBFORM_FRAME_ANCESTORS", [])],
    }


def _framed(response):
    """Embeddable by the listed origins only: CSP frame-ancestors; X-Frame-Options, which cannot
    list origins, says SAMEORIGIN when no other site is listed and is left out otherwise."""
    response._csp_config = public_page_policy()  # django-csp's CSPMiddleware builds the header
    if not getattr(settings, "WEBFORM_FRAME_ANCESTORS", None):
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# The form is anonymous and carries no session: CSRF protects sessions, and a SameSite cookie
# would not even reach us from inside a cross-site iframe. Spam is handled by the honeypot and
# the per-IP rate limit instead.
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def form_page(request):
    if request.method == "GET":
        return _framed(render(request, "integrations/form.html", {"form": LeadForm()}))
    if len(request.body) > MAX_BODY_BYTES:
        return _framed(
            render(
                request,
                "integrations/form.html",
                {"form": LeadForm(), "error": "Слишком большой объём данных."},
                status=413,
            )
        )
    limit = SubmissionLimit(request)
    if limit.exceeded():
        return _framed(
            render(
                request,
                "integrations/form.html",
                {"form": LeadForm(request.POST), "error": TOO_MANY},
                status=429,
            )
        )
    form = LeadForm(request.POST)
    if not form.is_valid():  # a typo does not count against the limit
        return _framed(render(request, "integrations/form.html", {"form": form}, status=400))
    limit.record()
    number = ""
    if form.is_spam:
        logger.info("web form honeypot triggered")
    else:
        number = lead_number_of(submit(form.payload(ip=client_ip(request),
                                                    user_agent=request.META.get("HTTP_USER_AGENT", ""))))
    return _framed(render(request, "integrations/form_done.html", {"number": number}))


@xframe_options_exempt
def consent_page(request):
    """The consent text the form's checkbox refers to: the agency's current consent document (the same
    text, version and SHA-256 the submission records)."""
    from apps.documents.consent import current_consent_text

    return _framed(render(request, "integrations/consent.html", {"text": current_consent_text()}))


class PublicLeadView(BaseAPIView):
    """JSON twin of the form for the agency's own site (CORS for CORS_ALLOWED_ORIGINS)."""

    public = True
    authentication_classes: list = []

    @extend_schema(
        summary="Отправить заявку с сайта агентства",
        request=inline_serializer(
            "PublicLeadRequest",
            {
                "name": serializers.CharField(),
                "phone": serializers.CharField(required=False),
                "email": serializers.EmailField(required=False),
                "wishes": serializers.CharField(required=False),
                "date_from": serializers.DateField(required=False),
                "date_to": serializers.DateField(required=False),
                "consent": serializers.BooleanField(),
                "website": serializers.CharField(required=False, help_text="Honeypot: leave empty"),
            },
        ),
        responses={
            201: inline_serializer(
                "PublicLeadResponse", {"status": serializers.CharField(), "number": serializers.CharField()}
            ),
            413: OpenApiResponse(description="Body too large"),
            429: OpenApiResponse(description="Too many accepted submissions from this address"),
        },
        tags=["public"],
    )
    def post(self, request):
        if len(request.body) > MAX_BODY_BYTES:
            return Response(
                {"code": "request_too_large", "detail": "Слишком большой запрос.", "fields": {}}, status=413
            )
        limit = SubmissionLimit(request)
        if limit.exceeded():
            return Response(
                {"code": "throttled", "detail": TOO_MANY, "fields": {}},
                status=429,
                headers={"Retry-After": str(limit.retry_after)},
            )
        data = request.data if isinstance(request.data, dict) else {}
        consent_error = _consent_error(data.get("consent"))
        # Every field but consent is text: a number, boolean or object there is refused by name (Django's
        # form fields call .strip() and would fail with a 500 on them).
        not_text = {key for key, value in data.items() if key != "consent" and not isinstance(value, str | None)}
        form = LeadForm(data={key: value for key, value in data.items() if key not in not_text and value is not None})
        if consent_error or not_text or not form.is_valid():
            fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            for key in not_text:
                fields[key] = ["Ожидается текст."]
            if consent_error:
                fields["consent"] = [consent_error]
            return Response(
                {"code": "validation_error", "detail": "Проверьте введённые данные.", "fields": fields}, status=400
            )
        limit.record()
        if form.is_spam:
            logger.info("public leads honeypot triggered")
            return Response({"status": "accepted", "number": ""}, status=status.HTTP_201_CREATED)
        item = submit(form.payload(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")))
        return Response({"status": "accepted", "number": lead_number_of(item)}, status=status.HTTP_201_CREATED)


def _consent_error(value) -> str | None:
    """Consent in JSON is the literal true; "no", "0", "off", "true" as text or 1 are not a yes."""
    if value is True:
        return None
    if value is None or value is False:
        return "Без согласия на обработку персональных данных мы не можем принять заявку."
    return "Согласие передаётся только значением true (JSON), без кавычек."
