from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.documents.api.views import (
    DocumentTemplateViewSet,
    DocumentViewSet,
    OrderDocumentChecksView,
    OrderDocumentsView,
)

router = SimpleRouter(trailing_slash=True)
router.register("documents", DocumentViewSet, basename="document")
router.register("document-templates", DocumentTemplateViewSet, basename="document-template")

urlpatterns = [
    path("orders/<int:order_id>/documents/", OrderDocumentsView.as_view(), name="order-documents"),
    path("orders/<int:order_id>/documents/checks/", OrderDocumentChecksView.as_view(), name="order-document-checks"),
    *router.urls,
]
