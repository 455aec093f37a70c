from rest_framework.routers import SimpleRouter

from apps.leads.api.views import LeadViewSet

router = SimpleRouter(trailing_slash=True)
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
