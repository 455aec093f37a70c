"""Sessions of staff: sign-in token families, refresh rotation with reuse detection, ending sessions.

A sign-in starts a *family*: its refresh token carries the family id ("fam") and the time of the
sign-in ("auth_time", seconds with microseconds), and every token rotated from it and every access
token made from them keep both. So:

- `User.tokens_valid_after` refuses every token of a sign-in older than it (checked by the JWT
  authentication on the user row it reads anyway, and here on refresh);
- presenting a refresh token that was already rotated revokes its whole family (reuse detection:
  a stolen copy and the original cannot both go on);
- a family ends JWT_REFRESH_MAX_DAYS after its sign-in, whatever the sliding refresh lifetime says.
"""

import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import RefreshTokenFamily, User
from apps.core.errors import BusinessError

FAMILY_CLAIM = "fam"
AUTH_TIME_CLAIM = "auth_time"

SESSION_ENDED = "Сеанс завершён: войдите заново."


def _max_age() -> timedelta:
    return timedelta(days=settings.JWT_REFRESH_MAX_DAYS)


def token_issued_before_stamp(payload, user: User) -> bool:
    """Was the token's sign-in before the user's tokens_valid_after? (No query: the row is loaded.)"""
    valid_after = user.tokens_valid_after
    if valid_after is None:
        return False
    if AUTH_TIME_CLAIM in payload:
        return float(payload[AUTH_TIME_CLAIM]) < valid_after.timestamp()
    # A token without the sign-in time (made by AccessToken.for_user, or before families): its
    # whole-second iat, compared to the second.
    issued = payload.get("iat")
    return issued is None or int(issued) < int(valid_after.timestamp())


@transaction.atomic
def token_family_start(*, user: User) -> RefreshToken:
    """A new sign-in: a family row and its first refresh token (the access token: .access_token)."""
    family = RefreshTokenFamily.objects.create(user=user)
    refresh = RefreshToken.for_user(user)  # recorded as outstanding (for rotation and logout)
    refresh[FAMILY_CLAIM] = str(family.pk)
    refresh[AUTH_TIME_CLAIM] = _epoch(family.created_at)
    _cap_expiry(refresh, family)
    return refresh


def token_refresh(*, raw: str) -> dict:
    """Rotate a refresh token: {"access", "refresh"}. Raises TokenError / AuthenticationFailed (401).

    The family's row is locked first, so of two refreshes with one token exactly one wins and the
    other counts as reuse.
    """
    try:
        refresh = RefreshToken(raw)  # type: ignore[arg-type]  # the stubs omit the encoded str
    except TokenError:
        _revoke_family_if_reused(raw)
        raise
    return _rotate(refresh)


@transaction.atomic
def _rotate(refresh: RefreshToken) -> dict:
    user = User.objects.filter(pk=refresh.payload.get(api_settings.USER_ID_CLAIM)).first()  # type: ignore[misc]
    if user is None or not user.is_active:
        raise AuthenticationFailed("Учётная запись не найдена или отключена.", "no_active_account")
    family = _family_locked(refresh, user)
    if BlacklistedToken.objects.filter(token__jti=refresh[api_settings.JTI_CLAIM]).exists():
        _revoke(family, reason="reuse")  # rotated meanwhile by a concurrent request
        raise AuthenticationFailed(SESSION_ENDED, "token_reused")
    if token_issued_before_stamp(refresh.payload, user):
        raise AuthenticationFailed(SESSION_ENDED, "token_revoked")
    data = {"access": str(refresh.access_token)}
    refresh.blacklist()
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    _cap_expiry(refresh, family)
    refresh.outstand()
    data["refresh"] = str(refresh)
    return data


def _family_locked(refresh: RefreshToken, user: User) -> RefreshTokenFamily:
    family_id = refresh.payload.get(FAMILY_CLAIM)
    if family_id is None:
        # Issued before families existed: adopt it into one that began at its own issue time.
        adopted = RefreshTokenFamily.objects.create(user=user, created_at=_from_epoch(refresh["iat"]))
        refresh[FAMILY_CLAIM] = str(adopted.pk)
        refresh[AUTH_TIME_CLAIM] = refresh["iat"]
        return adopted
    family = RefreshTokenFamily.objects.select_for_update().filter(pk=family_id, user=user).first()
    if family is None or family.revoked_at is not None:
        raise AuthenticationFailed(SESSION_ENDED, "token_revoked")
    if timezone.now() >= family.created_at + _max_age():
        raise AuthenticationFailed(
            f"Сеанс длится не дольше {settings.JWT_REFRESH_MAX_DAYS} дн.: войдите заново.", "session_expired"
        )
    return family


def _revoke_family_if_reused(raw: str) -> None:
    """A refresh token refused as blacklisted, but genuine and unexpired: revoke its family."""
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]  # the stubs omit the encoded str
    except Exception:  # noqa: BLE001 - forged, expired or garbage: nothing to revoke
        return
    family_id = payload.get(FAMILY_CLAIM)
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh" or family_id is None:
        return
    if BlacklistedToken.objects.filter(token__jti=payload.get(api_settings.JTI_CLAIM)).exists():
        with transaction.atomic():
            family = RefreshTokenFamily.objects.select_for_update().filter(pk=family_id).first()
            if family is not None:
                _revoke(family, reason="reuse")


def _revoke(family: RefreshTokenFamily, *, reason: str) -> None:
    if family.revoked_at is None:
        family.revoked_at = timezone.now()
        family.revoked_reason = reason
        family.save(update_fields=["revoked_at", "revoked_reason"])


def _cap_expiry(refresh: RefreshToken, family: RefreshTokenFamily) -> None:
    end = _epoch(family.created_at + _max_age())
    if refresh["exp"] > end:
        refresh["exp"] = int(end)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _from_epoch(value) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


# --- Ending sessions ---------------------------------------------------------------------------------


@transaction.atomic
def user_sessions_end(*, user: User, reason: str = "logout_all") -> None:
    """Every token of the user stops working: access tokens at once, refresh tokens on next use."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.end_sessions()
    user.save(update_fields=["tokens_valid_after"])
    RefreshTokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason[:32]
    )


@transaction.atomic
def user_password_change(*, user: User, new_password: str) -> RefreshToken:
    """Set a new password, end every session, start a new one for the caller (returned).

    The caller has checked the old password (through authenticate(), so the lockout counts it).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.check_password(new_password):
        raise BusinessError(
            "Новый пароль совпадает с текущим.",
            code="validation_error",
            fields={"new_password": ["Новый пароль совпадает с текущим."]},
        )
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise BusinessError(
            "Пароль слишком простой.", code="validation_error", fields={"new_password": list(error.messages)}
        ) from None
    user.set_password(new_password)
    user.save()
    RefreshTokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason="password_change"
    )
    # A moment later than the stamp, so the new sign-in's tokens are valid.
    while time.time() <= user.tokens_valid_after.timestamp():  # type: ignore[union-attr]  # set just above
        time.sleep(0.0005)
    return token_family_start(user=user)


@transaction.atomic
def sessions_purge() -> dict[str, int]:
    """Delete what no token can use any more: families older than JWT_REFRESH_MAX_DAYS (every
    token of theirs has expired) and expired refresh-token records (with their blacklist rows)."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = timezone.now()
    families, _ = RefreshTokenFamily.objects.filter(created_at__lt=now - _max_age()).delete()
    tokens, _ = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return {"families": families, "tokens": tokens}
