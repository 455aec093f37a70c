"""Custom user: the e-mail is the login; the role decides the permissions (through its group)."""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("Менеджер")
    ACCOUNTANT = "accountant", _("Бухгалтер")
    SUPERVISOR = "supervisor", _("Руководитель")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("E-mail is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_superuser", False)
        extra.setdefault("role", Role.OPERATOR)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.SUPERVISOR)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("ФИО"), max_length=200, blank=True)
    phone = models.CharField(
        _("рабочий телефон"), max_length=32, blank=True, help_text=_("Печатается в коммерческих предложениях.")
    )
    role = models.CharField(_("роль"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    is_active = models.BooleanField(_("активен"), default=True)
    # Where the operators' Telegram bot sends this manager's notices (new leads); empty: none.
    telegram_chat_id = models.CharField(
        _("Telegram chat ID для уведомлений"), max_length=32, blank=True, default="",
        help_text=_("Напишите боту операторов /start и узнайте свой chat ID; пусто — без уведомлений в Telegram."),
    )
    is_staff = models.BooleanField(
        _("доступ в админку"), default=True, help_text=_("Может входить в интерфейс администрирования.")
    )
    date_joined = models.DateTimeField(_("дата регистрации"), default=timezone.now)
    # Every JWT issued (its session's login, claim "auth_time") before this moment is refused: set by
    # a password change, "log out everywhere", deactivation and a role change. Read with the user
    # row the JWT authentication loads anyway, so checking it costs no query.
    tokens_valid_after = models.DateTimeField(_("токены действительны после"), null=True, blank=True, editable=False)

    objects = UserManager()

    # Not a column: the permission names read with the user (apps.accounts.selectors), which
    # apps.accounts.backends.PermissionBackend answers has_perm() from. None: ask the database.
    preloaded_permissions: set[str] | None = None

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in Role]), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        # What the row held: save() ends the sessions when the role or the activity changes.
        user._loaded_access = (user.__dict__.get("role"), user.__dict__.get("is_active"))
        return user

    def end_sessions(self) -> None:
        """Refuse every token issued so far (saved with the next save())."""
        self.tokens_valid_after = timezone.now()

    def set_password(self, raw_password):
        super().set_password(raw_password)
        # A full save() after a password change ends the other sessions. (Django's hash upgrade at
        # login saves update_fields=["password"] only, so it ends nothing; a new user has none.)
        if not self._state.adding:
            self.end_sessions()

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_access", None)
        if loaded is not None and None not in loaded and loaded != (self.role, self.is_active):
            self.end_sessions()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "tokens_valid_after"}
        super().save(*args, **kwargs)
        self._loaded_access = (self.role, self.is_active)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class RefreshTokenFamily(models.Model):
    """One sign-in's chain of rotated refresh tokens (claim "fam").

    Reusing a refresh token that was already rotated revokes the whole family (a stolen copy and
    the original cannot both go on); a family lives at most JWT_REFRESH_MAX_DAYS whatever the
    sliding refresh lifetime says.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("пользователь"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("вход"), default=timezone.now)
    revoked_at = models.DateTimeField(_("отозвана"), null=True, blank=True)
    revoked_reason = models.CharField(_("причина отзыва"), max_length=32, blank=True, default="")

    class Meta:
        verbose_name = _("сеанс (цепочка refresh-токенов)")
        verbose_name_plural = _("сеансы (цепочки refresh-токенов)")
        indexes = [models.Index(fields=("user", "revoked_at"), name="token_family_user_revoked")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.pk}"
