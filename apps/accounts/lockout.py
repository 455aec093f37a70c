"""Response for a login refused by django-axes (too many failed attempts)."""

from django.http import JsonResponse

LOCKOUT_MESSAGE = "Слишком много неудачных попыток входа. Повторите попытку через 15 минут."


def lockout_response(request, *args, **kwargs):
    return JsonResponse(
        {"code": "too_many_login_attempts", "detail": LOCKOUT_MESSAGE, "fields": {}},
        status=429,
        json_dumps_params={"ensure_ascii": False},
    )
