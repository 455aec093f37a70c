from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.orders.api.views import LeadConvertView, OrderTimelineView, OrderViewSet, ServiceViewSet, SupplierViewSet
from travelcrm.api import deprecated_path

router = SimpleRouter(trailing_slash=True)
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("orders", OrderViewSet, basename="order")
router.register(r"orders/(?P<order_id>\d+)/services", ServiceViewSet, basename="order-service")

urlpatterns = [
    path("orders/<int:pk>/timeline/", OrderTimelineView.as_view(), name="order-timeline"),
    # Old spellings, answering for one more release (docs/api.md «Устаревшие пути»).
    deprecated_path("orders/<int:pk>/timeline", OrderTimelineView),
    deprecated_path("orders/<int:pk>/mark_paid/", OrderViewSet, {"post": "mark_paid"}, detail=True, basename="order"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead-convert"),
    *router.urls,
]
