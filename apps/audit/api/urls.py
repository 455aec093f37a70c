from rest_framework.routers import SimpleRouter

from apps.audit.api import views

router = SimpleRouter(trailing_slash=True)
router.register("audit/access", views.AccessLogViewSet, basename="audit-access")
router.register("audit/destructions", views.DestructionRecordViewSet, basename="audit-destruction")
router.register("audit", views.AuditLogViewSet, basename="audit")
# /clients/{id}/personal-data/ and /clients/{id}/anonymize/ (only detail actions: no list route)
router.register(r"clients/(?P<client_id>\d+)/consents", views.ConsentViewSet, basename="client-consent")
router.register("clients", views.SubjectRequestViewSet, basename="client-subject")

urlpatterns = router.urls
