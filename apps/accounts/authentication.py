"""JWT authentication whose user lookup also brings the user's permissions (one query per request).

Every API request needs the user (simplejwt's lookup) and, for RolePermission, the user's
permissions (ModelBackend: two more queries). Here the three become one.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import User
from apps.accounts.selectors import user_with_permissions
from apps.accounts.services import SESSION_ENDED, token_issued_before_stamp


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token) -> User:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken(_("Token contained no recognizable user identification")) from None
        try:
            user = user_with_permissions(user_id)
        except User.DoesNotExist:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from None
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        # Sessions ended (password change, "log out everywhere", role change): on the row just read.
        if token_issued_before_stamp(validated_token, user):
            raise AuthenticationFailed(SESSION_ENDED, code="token_revoked")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user
