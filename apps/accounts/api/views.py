from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate, user_logged_out
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.accounts import services
from apps.accounts.api.serializers import (
    LogoutSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    TokenObtainSerializer,
    TokenPairResponseSerializer,
    TokenRefreshRotatingSerializer,
)
from apps.accounts.lockout import lockout_response
from apps.core.errors import BusinessError
from travelcrm.api import ApiViewMixin, BaseAPIView, ErrorSerializer


@extend_schema(
    tags=["auth"],
    summary="Войти: получить access- и refresh-токен",
    responses={200: TokenPairResponseSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
)
class TokenObtainView(ApiViewMixin, TokenObtainPairView):
    public = True
    serializer_class = TokenObtainSerializer

    def post(self, request, *args, **kwargs):
        email = str(request.data.get("email", "")).strip().lower() if hasattr(request.data, "get") else ""
        # django-axes counts failures per e-mail and per IP; refuse before checking the password.
        if AxesProxyHandler.is_locked(request._request, {"email": email}):
            return lockout_response(request)
        response = super().post(request, *args, **kwargs)
        if AxesProxyHandler.is_locked(request._request, {"email": email}):
            return lockout_response(request)
        return response


@extend_schema(
    tags=["auth"],
    summary="Обменять refresh-токен на новую пару (старый refresh-токен отзывается)",
    responses={200: TokenPairResponseSerializer, 401: ErrorSerializer},
)
class TokenRefreshRotatingView(ApiViewMixin, TokenRefreshView):
    public = True
    serializer_class = TokenRefreshRotatingSerializer


@extend_schema(
    tags=["auth"],
    summary="Выйти: отозвать refresh-токен",
    request=LogoutSerializer,
    responses={205: None, 400: ErrorSerializer, 401: ErrorSerializer},
)
class LogoutView(BaseAPIView):
    required_permissions: list[str] = []  # any signed-in user

    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError:
            raise AuthenticationFailed("Токен недействителен или уже отозван.", "token_not_valid") from None
        if str(token.payload.get("user_id")) != str(request.user.pk):
            raise AuthenticationFailed("Токен принадлежит другому пользователю.", "token_not_valid")
        token.blacklist()
        user_logged_out.send(sender=request.user.__class__, request=request._request, user=request.user)
        return Response(status=status.HTTP_205_RESET_CONTENT)


@extend_schema(
    tags=["auth"],
    summary="Сменить свой пароль: остальные сеансы завершаются, возвращается новая пара токенов",
    request=PasswordChangeSerializer,
    responses={200: TokenPairResponseSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
)
class PasswordChangeView(BaseAPIView):
    required_permissions: list[str] = []  # any signed-in user

    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        # The old password is a password check like a login: the same lockout, the same signals
        # (authenticate() sends user_login_failed on a wrong one, which django-axes counts).
        if AxesProxyHandler.is_locked(request._request, {"email": user.email}):
            return lockout_response(request)
        checked = authenticate(
            request._request, email=user.email, password=serializer.validated_data["old_password"]
        )
        if checked is None or checked.pk != user.pk:
            raise BusinessError(
                "Неверный текущий пароль.",
                code="invalid_password",
                fields={"old_password": ["Неверный текущий пароль."]},
            )
        refresh = services.user_password_change(user=user, new_password=serializer.validated_data["new_password"])
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


@extend_schema(
    tags=["auth"],
    summary="Завершить все сеансы текущего пользователя (все refresh- и access-токены перестают действовать)",
    request=None,
    responses={205: None, 401: ErrorSerializer},
)
class LogoutAllView(BaseAPIView):
    required_permissions: list[str] = []  # any signed-in user

    def post(self, request):
        services.user_sessions_end(user=request.user)
        user_logged_out.send(sender=request.user.__class__, request=request._request, user=request.user)
        return Response(status=status.HTTP_205_RESET_CONTENT)


@extend_schema(tags=["auth"], summary="Текущий пользователь", responses={200: MeSerializer, 401: ErrorSerializer})
class MeView(BaseAPIView):
    required_permissions: list[str] = []  # any signed-in user

    def get(self, request):
        # The same fields as MeSerializer (which documents them), without building a serializer
        # on every call: /me is asked on every page load of a client.
        user = request.user
        return Response({
            "id": user.pk,
            "email": user.email,
            "role": user.role,
            "full_name": user.full_name,
            "is_superuser": user.is_superuser,
            "permissions": sorted(user.get_all_permissions()),
        })
