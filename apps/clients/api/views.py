"""Thin viewsets of the clients API: parse, call a service, render through a selector."""

from django.http import Http404, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.clients import selectors, services
from apps.clients.api.filters import ClientFilter
from apps.clients.api.renderers import ORJSONRenderer
from apps.clients.api.serializers import (
    ClientFileSerializer,
    ClientSerializer,
    ConsentCardSerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    MergeSerializer,
    PassportSerializer,
    client_to_dict,
)
from apps.clients.consents import consents_of_client
from apps.clients.models import PERSONAL_DATA_PERMISSION, Client, ClientContact, ClientFile, ClientPassport
from apps.clients.selectors import client_file_url
from apps.core.errors import BusinessError
from travelcrm.api import BaseModelViewSet, BaseViewSet, ErrorSerializer

DUPLICATE_RESPONSE = OpenApiResponse(
    response=ErrorSerializer,
    description='Duplicate: {"code": "duplicate_client", "detail", "fields": {}, '
    '"matches": [{"id", "name", "matched_on": ["phone" | "email" | "passport" | ...]}]}. Nothing is written.',
)
ON_DUPLICATE = OpenApiParameter(
    "on_duplicate", str, enum=["error", "link"], required=False,
    description="error (default): 409 on a duplicate; link: answer 200 with the existing client.",
)


def can_see_personal_data(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def _renderers() -> list:
    # orjson first; the rest of the project's renderers (the browsable API in DEBUG) after it.
    return [ORJSONRenderer, *api_settings.DEFAULT_RENDERER_CLASSES[1:]]


PD_FIELDS = {"birth_date", "phones", "emails", "telegram", "whatsapp", "passports"}


class PersonalDataContextMixin:
    """Masks output for users without clients.view_personal_data and refuses their PD writes
    (someone who cannot see a value must not overwrite it blind)."""

    renderer_classes = _renderers()
    pd_fields: set[str] | None = None  # None: every field of the payload is personal data

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not can_see_personal_data(request.user):
            payload = set(request.data) if hasattr(request.data, "keys") else set()
            touches_pd = payload & self.pd_fields if self.pd_fields is not None else True
            if touches_pd:
                raise PermissionDenied("Нет права изменять персональные данные клиента.")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_pd"] = can_see_personal_data(self.request.user)
        return context


@extend_schema_view(
    list=extend_schema(tags=["clients"], summary="Список клиентов (фильтры: phone, email, passport, search)"),
    retrieve=extend_schema(tags=["clients"], summary="Карточка клиента с контактами и документами"),
    create=extend_schema(
        tags=["clients"], summary="Создать клиента (с проверкой дублей по телефону, e-mail, паспорту)",
        parameters=[ON_DUPLICATE], responses={201: ClientSerializer, 200: ClientSerializer, 409: DUPLICATE_RESPONSE},
    ),
    partial_update=extend_schema(
        tags=["clients"], summary="Изменить клиента (телефоны и e-mail заменяются списком, документы дополняются)",
        responses={200: ClientSerializer, 409: DUPLICATE_RESPONSE},
    ),
    destroy=extend_schema(tags=["clients"], summary="Удалить клиента (мягкое удаление)"),
)
class ClientViewSet(PersonalDataContextMixin, BaseModelViewSet):
    """Clients with their contacts and passports. Personal data is masked for users without
    clients.view_personal_data (e.g. accountants)."""

    queryset = Client.objects.all()
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    ordering_fields = ["id", "last_name", "created_at", "updated_at"]
    ordering = ["-id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {"merge": ["clients.change_client", "clients.delete_client"]}
    pd_fields = PD_FIELDS

    def get_queryset(self):
        return selectors.client_list_queryset()

    def list(self, request, *args, **kwargs):
        # Filter, search, order and count over bare ids; then read only that page's rows.
        ids = self.paginate_queryset(self.filter_queryset(Client.objects.all()).values_list("pk", flat=True))
        show_pd = can_see_personal_data(request.user)
        rows = selectors.client_rows_with_children(selectors.client_page_rows(ids))
        return self.get_paginated_response([client_to_dict(row, show_pd) for row in rows])

    @extend_schema(tags=["clients"], summary="A client with contacts, passports and consents")
    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        # The card shows the consents (152-FZ); the list does not (one query per card, none per row).
        serializer = ConsentCardSerializer(
            consents_of_client(response.data["id"]), many=True, context=self.get_serializer_context()
        )
        response.data["consents"] = serializer.data
        return response

    def _render(self, client_id: int, status_code: int) -> Response:
        client = selectors.client_list_queryset().get(pk=client_id)
        return Response(self.get_serializer(client).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client = services.client_create(
            data=serializer.validated_data, actor=request.user,
            on_duplicate=request.query_params.get("on_duplicate", "error"),
        )
        return self._render(client.pk, status.HTTP_200_OK if client.linked else status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        client = self.get_object()
        serializer = self.get_serializer(client, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.client_update(client=client, data=serializer.validated_data, actor=request.user)
        return self._render(client.pk, status.HTTP_200_OK)

    def perform_destroy(self, instance):
        services.client_soft_delete(client=instance, actor=self.request.user)

    @extend_schema(
        tags=["clients"], summary="Объединить другого клиента с этим", request=MergeSerializer,
        responses={200: ClientSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        client = self.get_object()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = Client.objects.filter(pk=serializer.validated_data["other_id"]).first()
        if other is None:
            raise BusinessError(
                "Клиент для объединения не найден.", code="merge_not_found",
                fields={"other_id": ["Клиент не найден или удалён."]},
            )
        services.client_merge(target=client, other=other, actor=request.user)
        return self._render(client.pk, status.HTTP_200_OK)


class ClientChildMixin(PersonalDataContextMixin):
    """Nested under /clients/{client_id}/: the parent must exist and be alive."""

    lookup_value_regex = r"\d+"

    def get_client(self) -> Client:
        if not hasattr(self, "_client"):
            try:
                self._client = Client.objects.get(pk=int(self.kwargs["client_id"]))
            except (Client.DoesNotExist, ValueError):
                raise Http404 from None
        return self._client

    def get_queryset(self):
        return self.queryset.filter(client=self.get_client())


CLIENT_PK = OpenApiParameter("client_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(tags=["clients"], summary="Контакты клиента", parameters=[CLIENT_PK]),
    retrieve=extend_schema(tags=["clients"], parameters=[CLIENT_PK]),
    create=extend_schema(
        tags=["clients"], summary="Добавить контакт", parameters=[CLIENT_PK],
        responses={201: ContactSerializer, 409: DUPLICATE_RESPONSE},
    ),
    partial_update=extend_schema(
        tags=["clients"], summary="Изменить контакт", parameters=[CLIENT_PK], request=ContactUpdateSerializer,
        responses={200: ContactSerializer, 409: DUPLICATE_RESPONSE},
    ),
    destroy=extend_schema(tags=["clients"], parameters=[CLIENT_PK]),
)
class ContactViewSet(
    ClientChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, BaseViewSet,
):
    """Contacts of one client (phone, email, telegram, whatsapp), normalised and deduplicated."""

    queryset = ClientContact.objects.filter(is_archived=False).select_related("client")
    serializer_class = ContactSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_add(client=self.get_client(), actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        contact = self.get_object()
        serializer = ContactUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(contact).data)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(tags=["clients"], summary="Документы клиента (с историей)", parameters=[CLIENT_PK]),
    retrieve=extend_schema(tags=["clients"], parameters=[CLIENT_PK]),
    create=extend_schema(
        tags=["clients"], summary="Добавить документ (паспорт)", parameters=[CLIENT_PK],
        responses={201: PassportSerializer, 409: DUPLICATE_RESPONSE},
    ),
    partial_update=extend_schema(
        tags=["clients"], summary="Изменить документ (паспорт)", parameters=[CLIENT_PK],
        responses={200: PassportSerializer, 409: DUPLICATE_RESPONSE},
    ),
    destroy=extend_schema(tags=["clients"], parameters=[CLIENT_PK]),
)
class PassportViewSet(
    ClientChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, BaseViewSet,
):
    """Identity documents of one client; old passports stay as history (is_active=false)."""

    queryset = ClientPassport.objects.filter(is_archived=False).select_related("client")
    serializer_class = PassportSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        passport = services.passport_add(client=self.get_client(), data=serializer.validated_data, actor=request.user)
        return Response(self.get_serializer(passport).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        passport = self.get_object()
        serializer = self.get_serializer(passport, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        passport = services.passport_update(passport=passport, data=serializer.validated_data, actor=request.user)
        return Response(self.get_serializer(passport).data)

    def perform_destroy(self, instance):
        services.passport_delete(passport=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(tags=["clients"], summary="Файлы (сканы) клиента", parameters=[CLIENT_PK]),
    retrieve=extend_schema(tags=["clients"], summary="Файл клиента со временной ссылкой", parameters=[CLIENT_PK]),
    create=extend_schema(
        tags=["clients"], summary="Загрузить файл (multipart/form-data)", parameters=[CLIENT_PK],
        request={"multipart/form-data": ClientFileSerializer},
    ),
    destroy=extend_schema(tags=["clients"], parameters=[CLIENT_PK]),
)
class ClientFileViewSet(
    ClientChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.DestroyModelMixin, BaseViewSet,
):
    """Scans of one client in object storage; downloads through expiring pre-signed URLs."""

    queryset = ClientFile.objects.all()
    serializer_class = ClientFileSerializer
    pagination_class = None
    action_permissions = {"download": ["clients.view_clientfile", PERSONAL_DATA_PERMISSION]}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stored = services.client_file_add(
            client=self.get_client(), uploaded=serializer.validated_data["file"],
            description=serializer.validated_data.get("description", ""), actor=request.user,
        )
        return Response(self.get_serializer(stored).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.client_file_delete(file=instance, actor=self.request.user)

    @extend_schema(
        tags=["clients"], summary="Скачать файл: переход (302) по временной ссылке", parameters=[CLIENT_PK],
        responses={302: None},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        stored = self.get_object()
        return HttpResponseRedirect(client_file_url(stored))
