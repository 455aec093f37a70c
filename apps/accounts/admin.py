"""Users in the admin: supervisors manage staff accounts; only administrators grant superuser."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import Role, User


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return forms.EmailField().clean(self.cleaned_data["email"]).lower()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Сотрудник"), {"fields": ("full_name", "phone", "telegram_chat_id", "role", "is_active", "is_staff")}),
        (_("Администратор"), {"fields": ("is_superuser",)}),
        (_("Даты"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "role", "password1", "password2")}),
    )

    def has_change_permission(self, request, obj=None):
        # Supervisors may not edit an administrator (that would let them take the account over).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    @staticmethod
    def _peer_supervisor(request, obj) -> bool:
        """Another supervisor, seen by a supervisor: their login stays theirs (only an administrator
        changes another supervisor's e-mail, password or role — a demoted supervisor's password
        would be the same takeover)."""
        return (
            obj is not None
            and not request.user.is_superuser
            and obj.pk != request.user.pk
            and obj.role == Role.SUPERVISOR
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self._peer_supervisor(request, obj):
            fields += ("email", "role")
        return fields

    def user_change_password(self, request, id, form_url=""):  # noqa: A002 - Django's signature
        user = self.get_object(request, unquote(id))
        if self._peer_supervisor(request, user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Supervisors manage staff but cannot create administrators.
        return tuple(fs for fs in fieldsets if fs[0] != _("Администратор"))


# JWT logout's technical rows (issued and revoked refresh tokens) are not staff data, and simplejwt
# shows them in English: kept out of the admin. Deactivating a user is how staff cut access.
for _model in (BlacklistedToken, OutstandingToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
