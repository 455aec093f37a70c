"""One base for every API view (travelcrm.api.ApiViewMixin): the URL conf holds no view outside it."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from travelcrm.api import ApiViewMixin, BaseAPIView
from travelcrm.permissions import RolePermission

# The open doors are few and known: each checks its caller itself (password, signature, throttle).
PUBLIC_ROUTES = {
    "api/schema/",
    "api/docs/",
    "api/redoc/",  # ReDoc: the same schema, another reader
    "api/v1/auth/token/",
    "api/v1/auth/token/refresh/",
    "api/v1/integrations/telegram/<int:pk>/webhook/",
    "api/v1/integrations/whatsapp/<int:pk>/webhook/",
    "api/v1/public/leads/",
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def api_routes():
    return [(route, callback) for route, callback in _walk(get_resolver().url_patterns) if route.startswith("api/")]


def test_every_api_route_goes_through_the_one_base():
    routes = api_routes()
    assert len(routes) > 50
    outside = []
    for route, callback in routes:
        view_class = _view_class(callback)
        if view_class is None or not issubclass(view_class, ApiViewMixin):
            outside.append(f"{route} → {getattr(view_class, '__qualname__', callback)}")
    assert not outside, (
        "API views outside travelcrm.api's base (derive from BaseAPIView / BaseViewSet / "
        "BaseModelViewSet, or add ApiViewMixin first to a generic view):\n" + "\n".join(outside)
    )


def test_no_drf_view_anywhere_outside_the_base():
    """Not only under /api/: any DRF view mounted elsewhere would skip the role check too."""
    for route, callback in _walk(get_resolver().url_patterns):
        view_class = _view_class(callback)
        if view_class is not None and issubclass(view_class, APIView):
            assert issubclass(view_class, ApiViewMixin), route


def test_permission_is_the_role_permission_unless_declared_public():
    public = set()
    for route, callback in api_routes():
        view_class = _view_class(callback)
        if view_class.public:
            assert view_class.permission_classes == [AllowAny], route
            public.add(route)
        else:
            assert view_class.permission_classes == [RolePermission], route
    assert public == PUBLIC_ROUTES, "a new open endpoint must be added to PUBLIC_ROUTES on purpose"


def test_a_view_cannot_set_its_own_permission_classes():
    with pytest.raises(TypeError, match="required_permissions"):

        class Sneaky(BaseAPIView):
            permission_classes = [AllowAny]

    with pytest.raises(TypeError):

        class AlsoSneaky(BaseAPIView):
            def get_permissions(self):
                return []
