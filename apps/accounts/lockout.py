"""Lockout after failed logins (django-axes), per (e-mail, client address) pair plus an address ceiling.

Failures are counted per pair: five wrong passwords for an e-mail from one address lock that pair
only, so nobody outside can lock an employee out by typing their e-mail (LOGIN_FAILURE_LIMIT in
LOGIN_COOLOFF_MINUTES). Against password spraying (one address, many e-mails) a much higher
ceiling counts all failures of an address (LOGIN_ADDRESS_FAILURE_LIMIT). The client address comes
from travelcrm.client_address (X-Forwarded-For only behind TRUSTED_PROXIES).

The same counters guard the ADMIN_PASSWORD gate of the integration settings (gate_* below), under
their own name so a wrong gate password never counts against the employee's login.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.errors import BusinessError


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


class PairLockoutHandler(AxesDatabaseHandler):
    """axes' database handler (AXES_LOCKOUT_PARAMETERS = the pair) plus the per-address ceiling."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or (
            address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        )


def address_failures(request) -> int:
    """Failures of every e-mail from the request's address within the cool-off window."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    total = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


# --- The ADMIN_PASSWORD gate ------------------------------------------------------------------------


class TooManyAttempts(BusinessError):
    status_code = 429
    default_code = "too_many_attempts"


def _gate_request(request) -> HttpRequest:
    """Only what axes needs of the request (address, agent, path): never the posted secrets."""
    bare = HttpRequest()
    bare.META = {
        key: request.META[key]
        for key in ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "HTTP_ACCEPT")
        if key in request.META
    }
    bare.path = bare.path_info = getattr(request, "path", "")
    bare.method = "POST"
    return bare


def _gate_credentials(scope: str, user) -> dict:
    return {"username": f"{scope}:{getattr(user, 'email', '') or ''}".lower()}


def gate_check(request, *, scope: str, user) -> HttpRequest | None:
    """Refuse (429) a locked (user, address) pair before looking at the secret; returns the gate's request."""
    if request is None or not settings.AXES_ENABLED:
        return None
    bare = _gate_request(request)
    if AxesProxyHandler.is_locked(bare, _gate_credentials(scope, user)):
        raise TooManyAttempts(
            "Слишком много неверных попыток ввода пароля администратора. Повторите попытку через "
            f"{max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))} мин.",
            fields={"admin_password": ["Слишком много неверных попыток."]},
        )
    return bare


def gate_failed(bare: HttpRequest | None, *, scope: str, user) -> None:
    # The handler directly, not the user_login_failed signal: this is not a login.
    if bare is not None:
        AxesProxyHandler.user_login_failed(sender=__name__, credentials=_gate_credentials(scope, user), request=bare)


def gate_passed(bare: HttpRequest | None, *, scope: str, user) -> None:
    if bare is not None:
        AccessAttempt.objects.filter(
            username=_gate_credentials(scope, user)["username"], ip_address=bare.axes_ip_address
        ).delete()
