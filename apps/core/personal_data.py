"""Who may see a customer's personal data, and the one refusal for those who may not.

Roles without `clients.view_personal_data` (the accountant) get masked values everywhere; a
lookup BY a phone, e-mail or passport number would let them recover a masked value by guessing
(ask "?phone=+79161234567", see whether a row comes back), so such lookups are refused outright.
"""

from django.core.exceptions import PermissionDenied

from apps.core.errors import BusinessError

PERSONAL_DATA_PERMISSION = "clients.view_personal_data"


class PersonalDataForbidden(BusinessError, PermissionDenied):
    """403 `personal_data_forbidden`; a Django PermissionDenied too, so a page that does not catch it
    (the admin's autocomplete) still answers 403, never 500."""

    status_code = 403
    default_code = "personal_data_forbidden"


def can_see_personal_data(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def admin_forbidden_response(request, admin_site, error: PersonalDataForbidden, title: str):
    """The admin's 403 page for a refused search or download, with the Russian reason."""
    from django.template.response import TemplateResponse

    return TemplateResponse(request, "admin/personal_data_forbidden.html", {
        **admin_site.each_context(request), "title": title, "code": error.code, "detail": error.detail,
    }, status=403)


def require_personal_data(user, what: str) -> None:
    """Raise PersonalDataForbidden (403) unless the user may see personal data.

    `what` names the refused thing for the message, e.g. "поиск по телефону".
    """
    if not can_see_personal_data(user):
        raise PersonalDataForbidden(f"Нет права на персональные данные клиентов ({what}).")
