"""Thin API views of documents: generate/list per order, download, status marks, template uploads."""

import environ
from django.conf import settings
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, ListCreateAPIView
from rest_framework.response import Response

from apps.core.files import presigned_download_url, streamed_download
from apps.core.heavy import heavy_slot
from apps.documents import selectors, services
from apps.documents.api.serializers import (
    DocumentChecksSerializer,
    DocumentDownloadSerializer,
    DocumentGenerateSerializer,
    DocumentSerializer,
    DocumentTemplateSerializer,
    TemplateUploadSerializer,
    TemplateVersionSerializer,
)
from apps.documents.models import Document, DocumentTemplate, DocumentType
from travelcrm.api import ApiViewMixin, BaseReadOnlyViewSet, BaseViewSet


def download_ttl() -> int:
    return int(getattr(settings, "DOWNLOAD_URL_TTL_SECONDS", 0) or
               settings.STORAGES["default"]["OPTIONS"].get("querystring_expire", 900))


def download_streams() -> bool:
    """Stream the PDF through the API instead of handing out a pre-signed link (S3 not reachable by clients)."""
    value = getattr(settings, "DOCUMENTS_DOWNLOAD_STREAM", None)
    if value is None:
        value = environ.Env().bool("DOCUMENTS_DOWNLOAD_STREAM", default=False)
    return bool(value)


class OrderDocumentsView(ApiViewMixin, ListCreateAPIView):
    """GET: every version of every document of the order. POST {"type"}: generate the next version."""

    serializer_class = DocumentSerializer
    queryset = Document.objects.none()  # for RolePermission's model lookup

    def get_queryset(self):
        return selectors.order_documents(self.kwargs["order_id"], self.request.user)

    def _order(self):
        from apps.orders.models import Order

        return get_object_or_404(Order, pk=self.kwargs["order_id"])

    def list(self, request, *args, **kwargs):
        self._order()
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DocumentGenerateSerializer, responses={201: DocumentSerializer})
    def create(self, request, *args, **kwargs):
        order = self._order()
        payload = DocumentGenerateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with heavy_slot():  # the PDF takes WeasyPrint seconds: it may not hold every web worker (503 server_busy)
            document = services.document_generate(order=order, doc_type=payload.validated_data["type"],
                                                  actor=request.user, confirm=payload.validated_data["confirm"])
        document = selectors.documents_visible_to(request.user).get(pk=document.pk)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class OrderDocumentChecksView(ApiViewMixin, GenericAPIView):
    """GET ?type=act: what generating that document would say (errors, confirmations, warnings).
    For those who may generate documents."""

    required_permissions = ["documents.add_document"]
    serializer_class = DocumentChecksSerializer
    queryset = Document.objects.none()

    @extend_schema(
        summary="Проверки перед созданием документа заказа",
        parameters=[OpenApiParameter("type", str, required=True, enum=list(DocumentType.values))],
        responses={200: DocumentChecksSerializer},
    )
    def get(self, request, *args, **kwargs):
        from apps.orders.models import Order

        order = get_object_or_404(Order, pk=self.kwargs["order_id"])
        payload = DocumentGenerateSerializer(data={"type": request.query_params.get("type", "")})
        payload.is_valid(raise_exception=True)
        doc_type = payload.validated_data["type"]
        findings = services.generation_checks(order=order, doc_type=doc_type)
        return Response(DocumentChecksSerializer({
            "type": doc_type,
            "can_generate": not any(f.level == "error" for f in findings),
            "needs_confirmation": any(f.level == "confirm" for f in findings),
            "checks": [f.as_dict() for f in findings],
        }).data)


class DocumentViewSet(BaseReadOnlyViewSet):
    """Documents the user may read; download hands out a short-lived pre-signed link (or streams)."""

    serializer_class = DocumentSerializer
    queryset = Document.objects.none()
    filterset_fields = ["order", "type", "status"]
    ordering_fields = ["generated_at", "version"]
    action_permissions = {
        "download": ["documents.view_document"],
        "mark_sent": ["documents.change_document"],
        "mark_signed": ["documents.change_document"],
    }

    def get_queryset(self):
        return selectors.documents_visible_to(self.request.user)

    @extend_schema(
        summary="Скачать PDF документа",
        responses={200: DocumentDownloadSerializer, 302: OpenApiResponse(description="PDF stream")},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        document = self.get_object()
        selectors.require_download_right(request.user, document)
        file_name = selectors.download_name(document)
        if download_streams():
            try:
                handle = default_storage.open(document.file.name, "rb")
            except FileNotFoundError:  # the row outlived its object (a restore without files, a purge)
                raise NotFound("Файл документа не найден в хранилище.") from None
            return streamed_download(handle, filename=file_name, content_type="application/pdf")
        ttl = download_ttl()
        url = presigned_download_url(document.file.name, filename=file_name, content_type="application/pdf", expire=ttl)
        return Response({"url": url, "expires_in": ttl, "file_name": file_name})

    @extend_schema(summary="Отметить документ отправленным", request=None, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"], url_path="mark-sent")
    def mark_sent(self, request, pk=None):
        document = services.document_mark_sent(document=self.get_object(), actor=request.user)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(summary="Отметить документ подписанным", request=None, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"], url_path="mark-signed")
    def mark_signed(self, request, pk=None):
        document = services.document_mark_signed(document=self.get_object(), actor=request.user)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)


class DocumentTemplateViewSet(BaseViewSet):
    """Templates with their versions. POST uploads a new version (checked in the sandbox first)."""

    serializer_class = DocumentTemplateSerializer
    queryset = DocumentTemplate.objects.none()
    action_permissions = {
        "versions": ["documents.view_documenttemplateversion"],
        "version_detail": ["documents.view_documenttemplateversion"],
        "activate": ["documents.change_documenttemplateversion"],
    }

    def get_queryset(self):
        return selectors.template_list()

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DocumentTemplateSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(DocumentTemplateSerializer(self.get_object()).data)

    @extend_schema(request=TemplateUploadSerializer, responses={201: TemplateVersionSerializer})
    def create(self, request):
        payload = TemplateUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        version = services.template_upload(
            doc_type=data["type"], body=data["body"], css=data["css"], name=data["name"],
            comment=data["comment"], activate=data["activate"], actor=request.user,
        )
        return Response(TemplateVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Версии шаблона документа", responses={200: TemplateVersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        template = self.get_object()
        page = self.paginate_queryset(selectors.template_versions(template.pk))
        return self.get_paginated_response(TemplateVersionSerializer(page, many=True).data)

    @extend_schema(summary="Одна версия шаблона документа", responses={200: TemplateVersionSerializer})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version_detail(self, request, pk=None, number=None):
        template = self.get_object()
        version = get_object_or_404(selectors.template_versions(template.pk), version=int(number))
        return Response(TemplateVersionSerializer(version).data)

    @extend_schema(summary="Сделать версию шаблона действующей (в том числе откат)", request=None,
                   responses={200: TemplateVersionSerializer})
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/activate")
    def activate(self, request, pk=None, number=None):
        template = self.get_object()
        version = get_object_or_404(selectors.template_versions(template.pk), version=int(number))
        version = services.template_version_activate(version=version, actor=request.user)
        return Response(TemplateVersionSerializer(version).data)
