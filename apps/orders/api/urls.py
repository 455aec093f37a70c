from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.orders.api.views import LeadConvertView, OrderViewSet, ServiceViewSet, SupplierViewSet

router = SimpleRouter(trailing_slash=True)
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("orders", OrderViewSet, basename="order")
router.register(r"orders/(?P<order_pk>\d+)/services", ServiceViewSet, basename="order-service")

urlpatterns = [
    # The issue names the timeline without a trailing slash; both spellings answer.
    path("orders/<int:pk>/timeline", OrderViewSet.as_view({"get": "timeline"}), name="order-timeline-noslash"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead-convert"),
    *router.urls,
]
