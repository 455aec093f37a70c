"""The API's permission class and pagination, named in settings.REST_FRAMEWORK.

Kept apart from travelcrm/api.py: DRF imports these while rest_framework.views is loading.
"""

from rest_framework import pagination
from rest_framework.permissions import DjangoModelPermissions

from travelcrm.pagination import strict_page_size

# --- Permissions -----------------------------------------------------------------------------------


class RolePermission(DjangoModelPermissions):
    """Model permissions of the user's groups (roles) — the same ones the admin checks.

    GET needs `view`, POST `add`, PUT/PATCH `change`, DELETE `delete`. A view may declare
    `action_permissions = {"confirm": ["orders.change_order"], ...}` for custom actions, or
    `required_permissions = [...]` for views without a queryset.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        action_permissions = getattr(view, "action_permissions", {}) or {}
        if action in action_permissions:
            return user.has_perms(action_permissions[action])
        required = getattr(view, "required_permissions", None)
        if required is not None:
            return user.has_perms(required)
        return super().has_permission(request, view)

    def _queryset(self, view):
        # Only the model is needed to name the permissions: the class-level queryset gives it
        # without building get_queryset()'s joins and prefetches on every request.
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            return queryset
        return super()._queryset(view)


# --- Pagination ------------------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        return strict_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size,
                                noun="Строк")
