from django.contrib.auth import user_logged_in
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from apps.accounts import services
from apps.accounts.models import Role, User
from travelcrm.api import StrictBooleanField, StrictCharField

INVALID_CREDENTIALS = "Неверный e-mail или пароль, либо учётная запись отключена."


class TokenObtainSerializer(TokenObtainPairSerializer):
    default_error_messages = {"no_active_account": INVALID_CREDENTIALS}

    @classmethod
    def get_token(cls, user):
        return services.token_family_start(user=user)  # a sign-in starts a token family

    def validate(self, attrs):
        attrs[self.username_field] = (attrs.get(self.username_field) or "").strip().lower()
        data = super().validate(attrs)
        # A token login is a login: django-axes resets the failure count, last_login is updated.
        request = self.context["request"]
        user_logged_in.send(sender=self.user.__class__, request=request, user=self.user)
        return data


class TokenRefreshRotatingSerializer(TokenRefreshSerializer):
    def validate(self, attrs):
        # Rotation within the sign-in's family; a rotated token used again revokes the family.
        return services.token_refresh(raw=attrs["refresh"])


class TokenPairResponseSerializer(serializers.Serializer):
    access = StrictCharField()
    refresh = StrictCharField()


class LogoutSerializer(serializers.Serializer):
    refresh = StrictCharField(help_text="The refresh token to revoke.")


class MeSerializer(serializers.Serializer):
    """The current user. A plain Serializer: /me is on every page load of a client, and building a
    ModelSerializer's fields from the model costs more than the rest of the request."""

    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    full_name = StrictCharField(read_only=True)
    is_superuser = StrictBooleanField(read_only=True)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, user: User) -> list[str]:
        # Filled by the JWT lookup (apps.accounts.authentication): no query here.
        return sorted(user.get_all_permissions())


class PasswordChangeSerializer(serializers.Serializer):
    old_password = StrictCharField(max_length=1024, write_only=True, trim_whitespace=False)
    new_password = StrictCharField(max_length=1024, write_only=True, trim_whitespace=False)
