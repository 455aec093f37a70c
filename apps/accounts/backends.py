"""Django's ModelBackend, answering from permissions read together with the user when there are some."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PermissionBackend(ModelBackend):
    """`user.preloaded_permissions` (set by apps.accounts.selectors.user_with_permissions, which
    reads them in the same statement as the user) spares ModelBackend its two permission queries.
    Without them — a session login, an object permission — it is ModelBackend unchanged."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        preloaded = getattr(user_obj, "preloaded_permissions", None)
        if preloaded is None or obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        return preloaded
