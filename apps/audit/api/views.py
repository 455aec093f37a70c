"""Read-only audit API for supervisors: the audit log, the access log, destruction acts."""

from auditlog.models import LogEntry
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.audit import acts, selectors, services
from apps.audit.api.filters import AccessLogFilter, AuditLogFilter
from apps.audit.api.serializers import (
    AccessEntrySerializer,
    AnonymizeSerializer,
    AuditEntrySerializer,
    ConsentSerializer,
    DestructionRecordSerializer,
    PaperConsentSerializer,
)
from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.clients import consents
from apps.clients.models import PERSONAL_DATA_PERMISSION, Client, Consent, ConsentChannel
from apps.core import access
from apps.documents.consent import consent_pdf, current_consent_text
from travelcrm.api import BaseReadOnlyViewSet, BaseViewSet, ErrorSerializer


class BinaryRenderer(renderers.BaseRenderer):
    """Lets ?format=zip / pdf through content negotiation; the views build the file themselves."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class ZipRenderer(BinaryRenderer):
    media_type = "application/zip"
    format = "zip"


class PdfRenderer(BinaryRenderer):
    media_type = "application/pdf"
    format = "pdf"


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Журнал аудита: изменения и события (фильтры: user, model, object_id, "
                                               "action, event, date_from, date_to)"),
    retrieve=extend_schema(tags=["audit"], summary="Запись журнала аудита"),
)
class AuditLogViewSet(BaseReadOnlyViewSet):
    """Model changes (create / update / delete) and events (logins, exports, subject requests)."""

    queryset = LogEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditLogFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.audit_log_queryset()


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Журнал доступа к ПДн (фильтры: user, client, date_from, date_to)"),
    retrieve=extend_schema(tags=["audit"], summary="Запись журнала доступа к персональным данным"),
)
class AccessLogViewSet(BaseReadOnlyViewSet):
    """Who saw which clients' unmasked personal data, through which endpoint, when, from where."""

    queryset = AccessLogEntry.objects.all()
    serializer_class = AccessEntrySerializer
    filterset_class = AccessLogFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.access_log_queryset()


@extend_schema_view(
    list=extend_schema(tags=["audit"], summary="Акты об уничтожении персональных данных"),
    retrieve=extend_schema(tags=["audit"], summary="Акт об уничтожении персональных данных"),
)
class DestructionRecordViewSet(BaseReadOnlyViewSet):
    queryset = DestructionRecord.objects.all()
    serializer_class = DestructionRecordSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.destruction_records()

    @extend_schema(tags=["audit"], summary="Акт об уничтожении персональных данных в PDF",
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer])
    def act(self, request, *args, **kwargs):
        record = self.get_object()
        response = HttpResponse(acts.destruction_act_pdf(record), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="destruction-act-{record.pk}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


CLIENT_PK = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class SubjectRequestViewSet(BaseViewSet):
    """152-FZ subject requests on a client: everything held about them, and anonymisation."""

    queryset = Client.all_objects.all()
    lookup_value_regex = r"\d+"
    serializer_class = AnonymizeSerializer
    action_permissions = {
        "personal_data": ["clients.view_client", "audit.export_personal_data"],
        "anonymize": ["clients.change_client", "audit.anonymize_client"],
        "consent_pdf": ["clients.view_client", PERSONAL_DATA_PERMISSION],
    }
    # A file renderer only on the action that makes that file: `?format=zip` on anonymize would
    # otherwise render its JSON answer as an empty "zip".

    def get_object(self) -> Client:
        try:
            return Client.all_objects.get(pk=int(self.kwargs["pk"]))
        except (Client.DoesNotExist, ValueError, OverflowError):
            raise Http404 from None

    @extend_schema(
        tags=["clients"], summary="Всё, что хранится о клиенте (запрос по 152-ФЗ); ?format=zip — с файлами",
        parameters=[CLIENT_PK, OpenApiParameter("format", str, enum=["json", "zip"], required=False)],
        responses={200: OpenApiTypes.OBJECT, (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], url_path="personal-data",
            renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, ZipRenderer])
    def personal_data(self, request, *args, **kwargs):
        client = self.get_object()
        if request.accepted_renderer.format == "zip":
            archive = services.subject_export_zip(client=client, actor=request.user)
            response = StreamingHttpResponse(archive, content_type="application/zip")  # made as it is sent
            response["Content-Disposition"] = content_disposition_header(True, f"personal-data-{client.pk}.zip")
            response["X-Content-Type-Options"] = "nosniff"
            return response
        return Response(services.subject_export(client=client, actor=request.user))

    @extend_schema(
        tags=["clients"], summary="Обезличить клиента (152-ФЗ): стереть персональные данные, сохранить учёт",
        request=AnonymizeSerializer, parameters=[CLIENT_PK],
        responses={201: DestructionRecordSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def anonymize(self, request, *args, **kwargs):
        client = self.get_object()
        serializer = AnonymizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.client_anonymize(client=client, actor=request.user, **serializer.validated_data)
        return Response(DestructionRecordSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["clients"], summary="Согласие на обработку персональных данных клиента в PDF, для подписи",
        parameters=[CLIENT_PK], responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], url_path="consent-pdf",
            renderer_classes=[*api_settings.DEFAULT_RENDERER_CLASSES, PdfRenderer])
    def consent_pdf(self, request, *args, **kwargs):
        client = self.get_object()
        if client.is_deleted:
            raise Http404
        access.note_personal_data_access((client.pk,), (access.BIRTH_DATE,), channel="download")
        response = HttpResponse(consent_pdf(client=client), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="consent-{client.pk}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


CONSENT_CLIENT = OpenApiParameter("client_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(tags=["clients"], summary="Согласия клиента (свои и данные как отправитель заявки)",
                       parameters=[CONSENT_CLIENT]),
    retrieve=extend_schema(tags=["clients"], summary="Согласие на обработку ПДн", parameters=[CONSENT_CLIENT]),
)
class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Consents to personal-data processing: list, record a signed paper consent, withdraw."""

    queryset = Consent.objects.all()
    serializer_class = ConsentSerializer
    lookup_value_regex = r"\d+"
    pagination_class = None
    action_permissions = {"withdraw": ["clients.change_consent"]}

    def get_client(self) -> Client:
        try:
            return Client.objects.get(pk=int(self.kwargs["client_id"]))
        except (Client.DoesNotExist, ValueError, OverflowError):
            raise Http404 from None

    def get_queryset(self):
        return consents.consents_of_client(self.get_client().pk)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_pd"] = self.request.user.has_perm(PERSONAL_DATA_PERMISSION)
        return context

    @extend_schema(
        tags=["clients"], summary="Записать согласие, подписанное на бумаге, со сканом (multipart/form-data)",
        parameters=[CONSENT_CLIENT], request={"multipart/form-data": PaperConsentSerializer},
        responses={201: ConsentSerializer},
    )
    def create(self, request, *args, **kwargs):
        client = self.get_client()
        serializer = PaperConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consent = consents.consent_record(
            text=current_consent_text(), channel=ConsentChannel.PAPER, client=client,
            purposes=sorted(data.get("purposes") or []) or None, given_at=data.get("given_at"),
            recorded_by=request.user, scan=data["scan"],
        )
        return Response(self.get_serializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["clients"], summary="Отозвать согласие; ответ предлагает обезличить клиента",
        parameters=[CONSENT_CLIENT], request=None, responses={200: OpenApiTypes.OBJECT, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        consent = consents.consent_withdraw(consent=self.get_object(), actor=request.user)
        client = self.get_client()
        return Response({
            "consent": self.get_serializer(consent).data,
            "anonymize": {
                "detail": "Согласие отозвано. Если других оснований для обработки нет, обезличьте данные клиента "
                          "(это необратимо).",
                "url": f"/api/v1/clients/{client.pk}/anonymize/",
                "method": "POST",
            },
        })
