"""Leads (заявки): a conversation with a prospective customer, from any intake channel.

A lead carries the contact data the sender gave (encrypted, with blind indexes so the sender's
open lead and the matching client are found without plaintext), its messages (each incoming
message once: unique per channel and external id) and its attachments (object storage).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedCharField, EncryptedTextField
from apps.leads.fields import EncryptedJSONField
from apps.leads.search import name_tokens, text_tokens

NUMBER_FUNCTION = "leads_next_number"


class LeadSource(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("Электронная почта")
    WEB = "web", _("Форма на сайте")
    MANUAL = "manual", _("Вручную")


class LeadStatus(models.TextChoices):
    NEW = "new", _("Новая")
    IN_PROGRESS = "in_progress", _("В работе")
    CONVERTED = "converted", _("Преобразована в заказ")
    REJECTED = "rejected", _("Отклонена")


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.IN_PROGRESS)

# status -> statuses it may move to; converted and rejected are final.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStatus.NEW: frozenset({LeadStatus.IN_PROGRESS, LeadStatus.CONVERTED, LeadStatus.REJECTED}),
    LeadStatus.IN_PROGRESS: frozenset({LeadStatus.CONVERTED, LeadStatus.REJECTED}),
    LeadStatus.CONVERTED: frozenset(),
    LeadStatus.REJECTED: frozenset(),
}


def _next_number():
    """L-000123 from a PostgreSQL sequence (never max()+1), filled in by the database on insert.

    leads_next_number() is created by migration 0001 (it pads to six digits and grows beyond).
    """
    return Func(function=NUMBER_FUNCTION, output_field=models.CharField())


class Lead(models.Model):
    number = models.CharField(_("номер"), max_length=20, unique=True, editable=False, db_default=_next_number())
    source = models.CharField(_("источник"), max_length=16, choices=LeadSource.choices)
    external_id = models.CharField(
        _("внешний идентификатор"), max_length=255, null=True, blank=True,
        help_text=_("Идентификатор первого сообщения в канале-источнике."),
    )
    status = models.CharField(_("статус"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    payload = EncryptedJSONField(_("исходное сообщение"), default=dict, blank=True)

    # Contact data given by the sender: encrypted; blind indexes for lookups.
    contact_name = EncryptedCharField(_("имя отправителя"), max_length=200, blank=True, default="")
    contact_phone = EncryptedCharField(_("телефон"), max_length=64, blank=True, default="")
    contact_email = EncryptedCharField(_("e-mail"), max_length=254, blank=True, default="")
    contact_telegram = EncryptedCharField(_("Telegram"), max_length=64, blank=True, default="")
    contact_whatsapp = EncryptedCharField(_("WhatsApp"), max_length=64, blank=True, default="")
    phone_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    email_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    telegram_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    whatsapp_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Keyed hashes of the sender name's words and their beginnings, for the search (apps.leads.search).
    name_tokens = ArrayField(models.CharField(max_length=16), default=list, blank=True, editable=False)

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("клиент"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="leads",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ответственный"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="leads",
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("заказ"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="leads",
    )
    rejection_reason = models.TextField(_("причина отказа"), blank=True, default="")

    # Hints for a person, never acted on automatically: a phone or e-mail the sender only claimed
    # (web form, e-mail From, a contact of somebody else) matched this client / this open lead.
    # A manager links or merges after a look (lead_link_client / lead_merge_into).
    suggested_client = models.ForeignKey(
        "clients.Client", verbose_name=_("возможно, это клиент"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="suggested_in_leads",
        help_text=_("Найден по телефону или e-mail, которые отправитель указал сам (не подтверждены)."),
    )
    possible_duplicate_of = models.ForeignKey(
        "self", verbose_name=_("возможно, дубль заявки"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="possible_duplicates",
        help_text=_("Открытая заявка с теми же контактами; объединить можно после проверки."),
    )

    created_at = models.DateTimeField(_("создана"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)
    last_message_at = models.DateTimeField(_("последнее сообщение"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыта"), null=True, blank=True)

    class Meta:
        verbose_name = _("заявка")
        verbose_name_plural = _("заявки")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("source", "external_id"),
                condition=Q(external_id__isnull=False),
                name="lead_unique_source_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=("status", "created_at"), name="lead_status_created"),
            # The list and its search, newest first: a walk stopped after a page (or SEARCH_CAP) rows.
            models.Index(fields=("created_at", "id"), name="lead_created_id"),
            models.Index(fields=("phone_index",), condition=~Q(phone_index=""), name="lead_phone_index"),
            models.Index(fields=("email_index",), condition=~Q(email_index=""), name="lead_email_index"),
            models.Index(fields=("telegram_index",), condition=~Q(telegram_index=""), name="lead_telegram_index"),
            models.Index(fields=("whatsapp_index",), condition=~Q(whatsapp_index=""), name="lead_whatsapp_index"),
            GinIndex(fields=("name_tokens",), name="lead_name_tokens"),
            # «Сегодня»: the open leads, the latest message first, stopped after a dozen rows.
            models.Index(
                F("last_message_at").desc(nulls_last=True),
                F("id").desc(),
                condition=Q(status__in=OPEN_STATUSES),
                name="lead_open_last_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_source_display()})"

    def save(self, *args, **kwargs):
        # The search tokens follow the name wherever it is written (services, merges, imports).
        self.name_tokens = name_tokens(self.contact_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "contact_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_tokens"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageDirection(models.TextChoices):
    INCOMING = "in", _("Входящее")
    OUTGOING = "out", _("Исходящее")


class LeadMessage(models.Model):
    lead = models.ForeignKey(Lead, verbose_name=_("заявка"), on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("канал"), max_length=16, choices=LeadSource.choices)
    external_id = models.CharField(_("внешний идентификатор"), max_length=255, null=True, blank=True)
    direction = models.CharField(
        _("направление"), max_length=3, choices=MessageDirection.choices, default=MessageDirection.INCOMING
    )
    # The text and the raw payload may hold personal data: encrypted like the contact data.
    text = EncryptedTextField(_("текст"), blank=True, default="")
    payload = EncryptedJSONField(_("исходные данные"), default=dict, blank=True)
    # Keyed hashes of the text's words and their beginnings, for the search (apps.leads.search).
    text_tokens = ArrayField(models.CharField(max_length=16), default=list, blank=True, editable=False)
    received_at = models.DateTimeField(_("получено"), db_index=True)
    created_at = models.DateTimeField(_("записано"), auto_now_add=True)

    class Meta:
        verbose_name = _("сообщение заявки")
        verbose_name_plural = _("сообщения заявки")
        ordering = ("received_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("channel", "external_id"),
                condition=Q(external_id__isnull=False),
                name="leadmessage_unique_channel_external_id",
            ),
        ]
        indexes = [GinIndex(fields=("text_tokens",), name="leadmessage_text_tokens")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.external_id or self.pk}"

    def save(self, *args, **kwargs):
        self.text_tokens = text_tokens(self.text)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "text" in update_fields:
            kwargs["update_fields"] = {*update_fields, "text_tokens"}
        super().save(*args, **kwargs)


class LeadAttachment(models.Model):
    lead = models.ForeignKey(Lead, verbose_name=_("заявка"), on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        LeadMessage, verbose_name=_("сообщение"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="attachments",
    )
    file = models.FileField(_("файл"), max_length=255, blank=True, default="")
    name = EncryptedCharField(_("имя файла"), max_length=255)  # names often carry a person's name
    content_type = models.CharField(_("тип содержимого"), max_length=127, blank=True, default="")
    size = models.PositiveBigIntegerField(_("размер, байт"), default=0)
    note = models.CharField(
        _("примечание"), max_length=255, blank=True, default="",
        help_text=_("Например, почему файл не был загружен."),
    )
    created_at = models.DateTimeField(_("загружен"), auto_now_add=True)

    class Meta:
        verbose_name = _("вложение заявки")
        verbose_name_plural = _("вложения заявки")
        ordering = ("id",)

    def __str__(self) -> str:
        # Not the file name ("passport_ivanov.jpg" is personal data): this shows in the admin's
        # inline and the audit log to roles without the right.
        return f"Вложение №{self.pk}" if self.pk else "Вложение"

    @property
    def is_stored(self) -> bool:
        return bool(self.file)
