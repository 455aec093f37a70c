"""Thin viewsets of the orders API: parse, call one service, render."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.orders import selectors, services
from apps.orders.api.filters import OrderFilter
from apps.orders.api.serializers import (
    CheckResultSerializer,
    LeadConvertSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    OrderWriteSerializer,
    OrjsonRenderer,
    ServiceSerializer,
    ServiceWriteSerializer,
    SupplierSerializer,
    TimelineSerializer,
    _iso,
    service_examples,
)
from apps.orders.models import Order, Service
from travelcrm.api import BaseAPIView, BaseModelViewSet, ErrorSerializer, StrictCharField

_CONFLICT = OpenApiResponse(ErrorSerializer, description="Переход запрещён в текущем статусе (причина в detail).")


class SupplierViewSet(BaseModelViewSet):
    serializer_class = SupplierSerializer
    queryset = selectors.supplier_list()
    search_fields = ["name", "inn"]
    filterset_fields = ["kind"]
    ordering_fields = ["name", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.supplier_create(data=serializer.validated_data, actor=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.supplier_update(
            supplier=serializer.instance, data=serializer.validated_data, actor=self.request.user
        )

    def perform_destroy(self, instance):
        services.supplier_delete(supplier=instance, actor=self.request.user)


class MarkPaidSerializer(drf_serializers.Serializer):
    override_reason = StrictCharField(
        required=False, allow_blank=True,
        help_text="Only when the order still has a debt: why it is marked paid anyway (needs "
                  "orders.mark_paid_with_debt, i.e. a supervisor); written to the timeline.",
    )


def _transition_action(name: str, summary: str):
    def transition(self, request, pk=None):
        reason = ""
        if name == "mark_paid" and isinstance(request.data, dict):
            reason = str(request.data.get("override_reason") or "")
        order = services.order_transition(
            order=self.get_object(), action=name, actor=request.user, override_reason=reason
        )
        return Response(OrderDetailSerializer(selectors.order_detail().get(pk=order.pk)).data)

    transition.__name__ = name
    # Paths in kebab-case (mark-paid); the old mark_paid/ answers for one release (apps/orders/api/urls.py).
    transition = action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(transition)
    request_body = MarkPaidSerializer if name == "mark_paid" else None
    return extend_schema(request=request_body, responses={200: OrderDetailSerializer, 409: _CONFLICT}, summary=summary)(
        transition
    )


@extend_schema_view(
    list=extend_schema(responses=OrderListSerializer(many=True)),
    retrieve=extend_schema(responses=OrderDetailSerializer),
    create=extend_schema(request=OrderWriteSerializer, responses={201: OrderDetailSerializer}),
    update=extend_schema(request=OrderWriteSerializer, responses=OrderDetailSerializer),
    partial_update=extend_schema(request=OrderWriteSerializer, responses=OrderDetailSerializer),
)
class OrderViewSet(BaseModelViewSet):
    queryset = Order.objects.all()
    filterset_class = OrderFilter
    search_fields = ["number", "client__search_name"]
    ordering_fields = ["created_at", "deadline", "total_amount", "balance_due", "number", "trip_start"]
    lookup_value_regex = r"\d+"
    action_permissions = {
        "confirm": ["orders.change_order"],
        "mark_paid": ["orders.change_order"],
        "complete": ["orders.change_order"],
        "cancel": ["orders.change_order"],
        "reopen": ["orders.change_order"],
    }

    renderer_classes = [OrjsonRenderer, *api_settings.DEFAULT_RENDERER_CLASSES[1:]]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.order_detail()
        return Order.objects.all()

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return OrderWriteSerializer
        if self.action == "list":
            return OrderListSerializer
        return OrderDetailSerializer

    def filter_queryset(self, queryset):
        # Building the FilterSet form costs more than the page itself: skip it when nothing is asked.
        if not set(self.request.query_params) - {"page", "page_size"}:
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        # Filter, search, order and count over bare ids; then read that page's rows (selectors).
        ids = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values_list("pk", flat=True))
        return self.get_paginated_response(OrderListSerializer(selectors.order_rows(list(ids)), many=True).data)

    def _detail(self, order, status_code=status.HTTP_200_OK):
        return Response(OrderDetailSerializer(selectors.order_detail().get(pk=order.pk)).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = OrderWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        travellers = data.pop("travellers", ())
        order = services.order_create(data=data, actor=request.user, travellers=travellers)
        return self._detail(order, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        order = self.get_object()
        serializer = OrderWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        travellers = data.pop("travellers", None)
        order = services.order_update(order=order, data=data, actor=request.user, travellers=travellers)
        return self._detail(order)

    def perform_destroy(self, instance):
        services.order_delete(order=instance, actor=self.request.user)

    confirm = _transition_action("confirm", "Подтвердить заказ (draft → confirmed)")
    mark_paid = _transition_action("mark_paid", "Отметить оплату (confirmed → paid)")
    complete = _transition_action("complete", "Завершить заказ (paid → completed)")
    cancel = _transition_action("cancel", "Отменить заказ")
    reopen = _transition_action("reopen", "Вернуть в черновик (confirmed/cancelled → draft)")

    @extend_schema(responses=CheckResultSerializer, summary="Проверить заказ: ошибки и предупреждения")
    @action(detail=True, methods=["get"])
    def check(self, request, pk=None):
        result = services.order_check(order=self.get_object())
        return Response(
            {
                "errors": [issue.as_dict() for issue in result.errors],
                "warnings": [issue.as_dict() for issue in result.warnings],
            }
        )


def _timeline_body(order: Order) -> dict:
    items = selectors.order_timeline(order)
    for item in items:
        item["at"] = _iso(item["at"], item["timezone"])
        item["end"] = _iso(item["end"], item["timezone"])
    return {"order_id": order.pk, "number": order.number, "status": order.status, "items": items}


class OrderTimelineView(BaseAPIView):
    """GET /api/v1/orders/{id}/timeline/ — services and events of the order in time order."""

    required_permissions = ["orders.view_order"]

    @extend_schema(
        responses=TimelineSerializer,
        summary="Хронология заказа: услуги и события по времени",
        operation_id="orders_timeline",
        tags=["orders"],
    )
    def get(self, request, pk: int):
        return Response(_timeline_body(get_object_or_404(Order.objects.only("id", "number", "status"), pk=pk)))


@extend_schema_view(
    create=extend_schema(request=ServiceWriteSerializer, responses={201: ServiceSerializer},
                         examples=service_examples()),
    update=extend_schema(request=ServiceWriteSerializer, responses=ServiceSerializer, examples=service_examples()),
    partial_update=extend_schema(request=ServiceWriteSerializer, responses=ServiceSerializer),
)
class ServiceViewSet(BaseModelViewSet):
    """Services of one order: /api/v1/orders/{order_id}/services/."""

    serializer_class = ServiceSerializer
    queryset = Service.objects.none()
    filter_backends = []
    pagination_class = None
    lookup_value_regex = r"\d+"

    def _order(self) -> Order:
        if not hasattr(self, "_order_cache"):
            self._order_cache = get_object_or_404(Order, pk=self.kwargs["order_id"])
        return self._order_cache

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Service.objects.none()
        if self.action == "list":
            return selectors.services_of(self._order().pk)  # a missing order is a 404, not an empty list
        if self.action == "retrieve":
            return selectors.services_of(self.kwargs["order_id"])  # found in the order => the order exists
        # update / destroy: the services lock the order and read the row again; here only that the
        # service is in this order (one query: no order, supplier or travellers to read).
        return Service.objects.filter(order_id=self.kwargs["order_id"])

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ServiceWriteSerializer
        return ServiceSerializer

    def create(self, request, *args, **kwargs):
        serializer = ServiceWriteSerializer(data=request.data)
        if not serializer.is_valid():
            self._order()  # a missing order is a 404 before any field error (read only on this path)
            raise ValidationError(serializer.errors)
        data = dict(serializer.validated_data)
        travellers = data.pop("travellers", None)
        try:  # the service locks the order by id: no separate read of it here
            service = services.service_create(
                order=int(self.kwargs["order_id"]), data=data, actor=request.user, travellers=travellers
            )
        except Order.DoesNotExist:
            raise Http404 from None
        # The service comes back with every field and its travellers' names: nothing to read again.
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        service = self.get_object()
        serializer = ServiceWriteSerializer(instance=service, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        travellers = data.pop("travellers", None)
        service = services.service_update(service=service, data=data, actor=request.user, travellers=travellers)
        return Response(ServiceSerializer(service).data)

    def perform_destroy(self, instance):
        services.service_delete(service=instance, actor=self.request.user)


class LeadConvertView(BaseAPIView):
    """POST /api/v1/leads/{id}/convert/ — the lead becomes a draft order for its client."""

    required_permissions = ["orders.add_order", "leads.change_lead"]

    @extend_schema(
        request=LeadConvertSerializer,
        responses={
            201: OrderDetailSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Заявка уже преобразована или отклонена."),
        },
        summary="Преобразовать заявку в заказ",
        tags=["leads"],
    )
    def post(self, request, pk: int):
        from apps.leads.models import Lead

        lead = get_object_or_404(Lead, pk=pk)
        serializer = LeadConvertSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        order = services.order_create_from_lead(
            lead=lead, actor=request.user, client=serializer.validated_data.get("client")
        )
        return Response(
            OrderDetailSerializer(selectors.order_detail().get(pk=order.pk)).data, status=status.HTTP_201_CREATED
        )
