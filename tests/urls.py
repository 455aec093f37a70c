"""Test-only URLs (never mounted in production): views that fail on purpose, under /api/v1/_test/.

Used with `@pytest.mark.urls("tests.urls")`; the project's own URLs and error handlers stay in place.
"""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.errors import ConflictError
from travelcrm.api import BaseReadOnlyViewSet
from travelcrm.urls import handler400, handler403, handler404, handler500
from travelcrm.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    nights = serializers.IntegerField(min_value=1)


class EchoView(APIView):
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ConflictView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        raise ConflictError("Такая запись уже есть.", code="duplicate", matches=[1, 2])


class BoomView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom: secret password=hunter2 for ivan@example.com")


def plain_boom(request):
    raise RuntimeError("plain boom")


class OncePerMinute(AnonRateThrottle):
    rate = "1/min"
    scope = "test-once"


class ThrottledView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OncePerMinute]

    def get(self, request):
        return Response({"ok": True})


class UserListViewSet(BaseReadOnlyViewSet):
    """A model viewset guarded by RolePermission (accounts.view_user) — the same rights the admin uses."""

    queryset = User.objects.order_by("pk")
    filterset_fields = ["role", "is_active"]
    ordering_fields = ["email", "id"]
    search_fields = ["email", "full_name"]

    class serializer_class(serializers.ModelSerializer):  # noqa: N801
        class Meta:
            model = User
            fields = ["id", "email", "role"]


router = SimpleRouter()
router.register("users", UserListViewSet, basename="test-users")

test_patterns = [
    path("echo/", EchoView.as_view()),
    path("conflict/", ConflictView.as_view()),
    path("boom/", BoomView.as_view()),
    path("plain-boom/", plain_boom),
    path("throttled/", ThrottledView.as_view()),
    path("", include(router.urls)),
]

urlpatterns = [path("api/v1/_test/", include(test_patterns)), *project_urlpatterns]
