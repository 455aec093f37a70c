"""Response for a login refused by django-axes (too many failed attempts)."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return f"Слишком много неудачных попыток входа. Повторите попытку через {minutes} мин."


def lockout_response(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "too_many_login_attempts", "detail": lockout_message(), "fields": {}},
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    else:  # the admin's login form
        response = HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def lockout_username(request, credentials: dict | None = None) -> str | None:
    """The login e-mail django-axes counts failures for, whichever door the attempt came through.

    The API passes {"email": ...}; the admin's login form passes {"username": ...}.
    """
    for source in (credentials or {}, getattr(request, "data", None) or {}, getattr(request, "POST", None) or {}):
        if not hasattr(source, "get"):
            continue
        value = source.get("email") or source.get("username")
        if value:
            return str(value).strip().lower()
    return None
