from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.orders.api.views import LeadConvertView, OrderTimelineView, OrderViewSet, ServiceViewSet, SupplierViewSet

router = SimpleRouter(trailing_slash=True)
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("orders", OrderViewSet, basename="order")
router.register(r"orders/(?P<order_pk>\d+)/services", ServiceViewSet, basename="order-service")

urlpatterns = [
    # The issue names the timeline without a trailing slash; both spellings answer.
    path("orders/<int:pk>/timeline", OrderTimelineView.as_view(), name="order-timeline"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead-convert"),
    *router.urls,
]
