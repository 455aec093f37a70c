"""Integration settings endpoints (supervisors): list, add, update, activate, deactivate."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.integrations import selectors, services
from apps.integrations.api.serializers import (
    IntegrationAddSerializer,
    IntegrationIdSerializer,
    IntegrationSerializer,
    IntegrationUpdateSerializer,
)
from apps.integrations.models import IntegrationSettings
from travelcrm.api import BaseViewSet

MANAGE = ["integrations.manage_integrations"]


class IntegrationSettingsViewSet(BaseViewSet):
    """Mounted by explicit paths (the customer named them): /settings/integrations/<verb>."""

    queryset = IntegrationSettings.objects.none()
    serializer_class = IntegrationSerializer
    action_permissions = {
        "list": ["integrations.view_integrationsettings", *MANAGE],
        "add": ["integrations.add_integrationsettings", *MANAGE],
        "update_settings": ["integrations.change_integrationsettings", *MANAGE],
        "activate": ["integrations.change_integrationsettings", *MANAGE],
        "deactivate": ["integrations.change_integrationsettings", *MANAGE],
    }
    filter_backends: list = []

    def _get(self, pk) -> IntegrationSettings:
        integration = selectors.integration_get(pk)
        if integration is None:
            raise exceptions.NotFound("Интеграция не найдена.")
        return integration

    @extend_schema(summary="Список интеграций (токены не возвращаются, см. has_token)", tags=["integrations"])
    def list(self, request):
        page = self.paginate_queryset(selectors.integrations_list())
        return self.get_paginated_response(IntegrationSerializer(page, many=True).data)

    @extend_schema(
        summary="Добавить интеграцию (нужен admin_password; токен Telegram проверяется через getMe)",
        request=IntegrationAddSerializer,
        responses={201: IntegrationSerializer},
        tags=["integrations"],
    )
    def add(self, request):
        serializer = IntegrationAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        integration = services.integration_add(
            actor=request.user,
            admin_password=data.pop("admin_password", None),
            type=data.pop("type"),
            purpose=data.pop("purpose"),
            data=data,
            request=request,
        )
        return Response(IntegrationSerializer(integration).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Изменить интеграцию; замена секрета требует admin_password",
        request=IntegrationUpdateSerializer,
        responses={200: IntegrationSerializer},
        tags=["integrations"],
    )
    def update_settings(self, request):
        serializer = IntegrationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        integration = self._get(data.pop("id"))
        integration = services.integration_update(
            actor=request.user,
            integration=integration,
            admin_password=data.pop("admin_password", None),
            data=data,
            request=request,
        )
        return Response(IntegrationSerializer(integration).data)

    @extend_schema(
        summary="Включить интеграцию (Telegram: установить вебхук, если задан PUBLIC_BASE_URL)",
        request=IntegrationIdSerializer,
        responses={200: IntegrationSerializer},
        tags=["integrations"],
    )
    def activate(self, request):
        integration = self._get(self._id(request))
        integration = services.integration_activate(actor=request.user, integration=integration)
        return Response(IntegrationSerializer(integration).data)

    @extend_schema(
        summary="Выключить интеграцию (Telegram: удалить вебхук)",
        request=IntegrationIdSerializer,
        responses={200: IntegrationSerializer},
        tags=["integrations"],
    )
    def deactivate(self, request):
        integration = self._get(self._id(request))
        integration = services.integration_deactivate(actor=request.user, integration=integration)
        return Response(IntegrationSerializer(integration).data)

    @staticmethod
    def _id(request) -> int:
        serializer = IntegrationIdSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["id"]
