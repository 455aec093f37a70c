"""The audit app's own records: who saw whose personal data, and what was destroyed.

Model changes and events (logins, exports, subject requests) live in django-auditlog's LogEntry
(see apps.core.auditing.audit_event); these two tables hold what auditlog does not.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.access import CATEGORY_LABELS


class AccessLogEntry(models.Model):
    """One request (API call, admin page, export, download) that showed unmasked personal data."""

    at = models.DateTimeField(_("когда"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("пользователь"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    client_ids = ArrayField(models.BigIntegerField(), verbose_name=_("клиенты"))
    categories = ArrayField(models.CharField(max_length=20), verbose_name=_("категории данных"))
    endpoint = models.CharField(_("адрес запроса"), max_length=300)
    method = models.CharField(_("метод"), max_length=10)
    channel = models.CharField(_("вид доступа"), max_length=20, blank=True)
    remote_addr = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    request_id = models.CharField(_("номер запроса"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("доступ к персональным данным")
        verbose_name_plural = _("журнал доступа к персональным данным")
        ordering = ["-at", "-id"]
        indexes = [GinIndex(fields=["client_ids"], name="access_client_ids_gin")]

    def __str__(self) -> str:
        return f"{self.at:%d.%m.%Y %H:%M} {self.method} {self.endpoint}"

    @property
    def categories_display(self) -> str:
        return ", ".join(str(CATEGORY_LABELS.get(c, c)) for c in self.categories)


class DestructionRecord(models.Model):
    """Акт об уничтожении персональных данных (the fields of RKN order No. 179 of 28.10.2022)."""

    client_id = models.BigIntegerField(_("номер клиента"), db_index=True)
    subject_label = models.CharField(_("субъект"), max_length=200)
    performed_at = models.DateTimeField(_("дата уничтожения"), default=timezone.now)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("уничтожил"), on_delete=models.PROTECT, related_name="+",
    )
    performed_by_name = models.CharField(_("ФИО и должность"), max_length=300)
    reason = models.TextField(_("причина уничтожения"))
    categories = ArrayField(models.CharField(max_length=40), verbose_name=_("категории данных"))
    method = models.CharField(
        _("способ уничтожения"), max_length=300,
        default="Удаление из базы данных и объектного хранилища, обезличивание записей",
    )
    details = models.JSONField(_("что уничтожено (количество)"), default=dict)

    class Meta:
        verbose_name = _("акт об уничтожении ПДн")
        verbose_name_plural = _("акты об уничтожении ПДн")
        ordering = ["-performed_at", "-id"]
        permissions = [
            ("export_personal_data", _("Может выгружать все сведения о субъекте ПДн")),
            ("anonymize_client", _("Может обезличивать клиентов (152-ФЗ)")),
        ]

    def __str__(self) -> str:
        return f"Акт № {self.pk} от {timezone.localtime(self.performed_at):%d.%m.%Y}"


class BlindIndexRotation(models.Model):
    """Progress of `manage.py rotate_blind_index` per part, for one target key: a rerun resumes."""

    key_fingerprint = models.CharField(_("отпечаток нового ключа"), max_length=16)
    part = models.CharField(_("часть"), max_length=40)
    last_pk = models.BigIntegerField(_("последняя обработанная запись"), default=0)
    done = models.PositiveBigIntegerField(_("обработано"), default=0)
    finished_at = models.DateTimeField(_("завершено"), null=True, blank=True)
    updated_at = models.DateTimeField(_("обновлено"), auto_now=True)

    class Meta:
        verbose_name = _("пересчёт слепых индексов")
        verbose_name_plural = _("пересчёт слепых индексов")
        constraints = [models.UniqueConstraint(fields=["key_fingerprint", "part"], name="blind_rotation_unique")]

    def __str__(self) -> str:
        return f"{self.part}: {self.done}"
