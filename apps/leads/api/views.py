"""Leads API: thin viewset; every write goes through apps.leads.services."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.leads import selectors, services
from apps.leads.api.filters import LeadFilter
from apps.leads.api.serializers import (
    LeadDetailSerializer,
    LeadLinkClientSerializer,
    LeadMergeSerializer,
    LeadRejectSerializer,
    LeadSerializer,
    LeadWriteSerializer,
)
from travelcrm.api import BaseModelViewSet, ErrorSerializer


@extend_schema_view(
    list=extend_schema(summary="Заявки: список с фильтрами по статусу, источнику, ответственному, дате"),
    retrieve=extend_schema(summary="Заявка с сообщениями и вложениями"),
    create=extend_schema(
        summary="Создать заявку вручную (source=manual)",
        request=LeadWriteSerializer,
        responses={201: LeadDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Изменить ответственного, клиента или контактные данные",
        request=LeadWriteSerializer,
        responses={200: LeadDetailSerializer},
    ),
    update=extend_schema(request=LeadWriteSerializer, responses={200: LeadDetailSerializer}),
    destroy=extend_schema(summary="Удалить заявку (руководитель)"),
)
class LeadViewSet(BaseModelViewSet):
    filterset_class = LeadFilter
    search_fields = ["number", "external_id"]
    ordering_fields = ["created_at", "last_message_at", "number", "status"]
    action_permissions = {
        "take": ["leads.change_lead"],
        "reject": ["leads.change_lead"],
        "link_client": ["leads.change_lead"],
        "merge_into": ["leads.change_lead"],
    }

    def get_queryset(self):
        if self.action == "list":
            return selectors.lead_list()
        return selectors.lead_detail()

    def get_serializer_class(self):
        if self.action == "list":
            return LeadSerializer
        if self.action in ("create", "update", "partial_update"):
            return LeadWriteSerializer
        if self.action == "reject":
            return LeadRejectSerializer
        if self.action == "link_client":
            return LeadLinkClientSerializer
        if self.action == "merge_into":
            return LeadMergeSerializer
        return LeadDetailSerializer

    def _detail(self, lead, status=200) -> Response:
        lead = selectors.lead_detail().get(pk=lead.pk)
        return Response(LeadDetailSerializer(lead, context=self.get_serializer_context()).data, status=status)

    def create(self, request, *args, **kwargs):
        serializer = LeadWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        lead = services.lead_create_manual(data=serializer.validated_data, actor=request.user)
        return self._detail(lead, status=201)

    def update(self, request, *args, **kwargs):
        lead = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = LeadWriteSerializer(
            lead, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, data=serializer.validated_data, actor=request.user)
        return self._detail(lead)

    def perform_destroy(self, instance):
        services.lead_delete(lead=instance, actor=self.request.user)

    @extend_schema(
        summary="Взять заявку в работу (new → in_progress)",
        request=None,
        responses={200: LeadDetailSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        lead = services.lead_take(lead=self.get_object(), actor=request.user)
        return self._detail(lead)

    @extend_schema(
        summary="Отклонить заявку с причиной",
        request=LeadRejectSerializer,
        responses={200: LeadDetailSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        serializer = LeadRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_reject(
            lead=self.get_object(), reason=serializer.validated_data["reason"], actor=request.user
        )
        return self._detail(lead)

    @extend_schema(
        summary="Привязать клиента после проверки (по умолчанию — предложенного suggested_client)",
        request=LeadLinkClientSerializer,
        responses={200: LeadDetailSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="link-client")
    def link_client(self, request, pk=None):
        serializer = LeadLinkClientSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_link_client(
            lead=self.get_object(), client=serializer.validated_data.get("client"), actor=request.user
        )
        return self._detail(lead)

    @extend_schema(
        summary="Объединить с другой открытой заявкой (по умолчанию — possible_duplicate_of); "
        "ответ — заявка, в которую перенесены сообщения",
        request=LeadMergeSerializer,
        responses={200: LeadDetailSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="merge-into")
    def merge_into(self, request, pk=None):
        serializer = LeadMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = services.lead_merge_into(
            lead=self.get_object(), target=serializer.validated_data.get("target"), actor=request.user
        )
        return self._detail(target)
