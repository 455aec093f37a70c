"""Models of the integrations app: channel settings, the raw inbox, web-form consents."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.crypto import EncryptedTextField
from apps.integrations.fields import EncryptedJSONField, SecretField


class IntegrationType(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Электронная почта"


class Purpose(models.TextChoices):
    SALES = "sales", "Продажи"
    OPERATORS = "operators", "Операторы"
    SUPPLIERS = "suppliers", "Поставщики"


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"


# Names of the encrypted secret fields: never returned, logged, shown or audited.
SECRET_FIELDS = (
    "api_token_encrypted", "webhook_secret", "app_secret", "verify_token", "imap_password", "smtp_password",
)


class IntegrationSettings(models.Model):
    """One connected channel: a Telegram bot, a WhatsApp number or an IMAP mailbox."""

    type = models.CharField("тип", max_length=16, choices=IntegrationType.choices)
    bot_name = models.CharField("название / имя бота", max_length=128, blank=True)
    purpose = models.CharField("назначение", max_length=16, choices=Purpose.choices, default=Purpose.SALES)
    api_token_encrypted = SecretField("токен API (зашифрован)", blank=True, default="", editable=False)
    # Telegram: secret_token of the webhook (generated on activation).
    webhook_secret = SecretField("секрет вебхука", blank=True, default="", editable=False)
    # WhatsApp Cloud API.
    app_secret = SecretField("секрет приложения WhatsApp", blank=True, default="", editable=False)
    verify_token = SecretField("токен проверки вебхука WhatsApp", blank=True, default="", editable=False)
    phone_number_id = models.CharField("ID номера WhatsApp", max_length=64, blank=True)
    # E-mail (IMAP).
    imap_host = models.CharField("IMAP-сервер", max_length=255, blank=True)
    imap_port = models.PositiveIntegerField("IMAP-порт", null=True, blank=True)
    imap_security = models.CharField(
        "защита IMAP", max_length=16, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_user = models.CharField("IMAP-пользователь", max_length=255, blank=True)
    imap_password = SecretField("IMAP-пароль (зашифрован)", blank=True, default="", editable=False)
    imap_folder = models.CharField("IMAP-папка", max_length=255, default="INBOX")
    imap_uidvalidity = models.BigIntegerField("UIDVALIDITY", null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField("последний UID", default=0, editable=False)
    # E-mail replies (SMTP) of the same mailbox.
    smtp_host = models.CharField("SMTP-сервер", max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField("SMTP-порт", null=True, blank=True)
    smtp_security = models.CharField(
        "защита SMTP", max_length=16, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    smtp_user = models.CharField("SMTP-пользователь", max_length=255, blank=True)
    smtp_password = SecretField("SMTP-пароль (зашифрован)", blank=True, default="", editable=False)
    smtp_from = models.EmailField("адрес отправителя", blank=True, help_text="По умолчанию — SMTP-пользователь.")
    # Telegram polling mode: next getUpdates offset.
    telegram_offset = models.BigIntegerField("смещение getUpdates", default=0, editable=False)

    is_active = models.BooleanField("активна", default=False)
    last_connected_at = models.DateTimeField("последнее подключение", null=True, blank=True, editable=False)
    last_error = models.TextField("последняя ошибка", blank=True, editable=False)
    created_at = models.DateTimeField("создана", auto_now_add=True)
    updated_at = models.DateTimeField("изменена", auto_now=True)

    class Meta:
        verbose_name = "интеграция"
        verbose_name_plural = "интеграции"
        ordering = ["id"]
        permissions = [("manage_integrations", "Может управлять интеграциями и их токенами")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} «{self.bot_name or self.pk}» ({self.get_purpose_display()})"

    @property
    def has_token(self) -> bool:
        return bool(self.api_token_encrypted or self.imap_password)

    @property
    def can_send_email(self) -> bool:
        return bool(self.smtp_host and (self.smtp_from or self.smtp_user or self.imap_user))

    @property
    def sender_address(self) -> str:
        return self.smtp_from or self.smtp_user or self.imap_user


class InboxStatus(models.TextChoices):
    PENDING = "pending", "Ожидает обработки"
    PROCESSED = "processed", "Обработано"
    FAILED = "failed", "Ошибка"
    IGNORED = "ignored", "Пропущено"


class Channel(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Электронная почта"
    WEB = "web", "Веб-форма"


class InboxItem(models.Model):
    """A raw incoming item, stored before it is processed, so nothing is lost (issue 7, point 6)."""

    channel = models.CharField("канал", max_length=16, choices=Channel.choices)
    integration = models.ForeignKey(
        IntegrationSettings,
        verbose_name="интеграция",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbox_items",
    )
    external_id = models.CharField("внешний ID", max_length=255)
    received_at = models.DateTimeField("получено", auto_now_add=True, db_index=True)
    payload = EncryptedJSONField("содержимое (зашифровано)", null=True, editable=False)
    status = models.CharField(
        "статус", max_length=16, choices=InboxStatus.choices, default=InboxStatus.PENDING, db_index=True
    )
    error = models.TextField("ошибка", blank=True)
    attempts = models.PositiveIntegerField("попыток", default=0)
    processed_at = models.DateTimeField("обработано", null=True, blank=True)
    lead_pk = models.BigIntegerField("ID заявки", null=True, blank=True)
    lead_number = models.CharField("номер заявки", max_length=32, blank=True)

    class Meta:
        verbose_name = "входящее сообщение"
        verbose_name_plural = "входящие сообщения"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "integration", "external_id"],
                name="integrations_inbox_unique_per_integration",
                condition=Q(integration__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                name="integrations_inbox_unique_without_integration",
                condition=Q(integration__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.external_id} ({self.get_status_display()})"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "ждёт отправки"
    # An attempt is on the wire: committed before the HTTP/SMTP call, so a worker killed in the
    # middle leaves a trace instead of a message that looks unsent.
    SENDING = "sending", "отправляется"
    SENT = "sent", "отправлено"
    FAILED = "failed", "не отправлено"
    # An attempt died between the request and the answer (kill -9, a lost connection after the
    # request left): the customer may or may not have it. Never re-sent blindly — the manager
    # decides («Отправить ещё раз»).
    UNCONFIRMED = "unconfirmed", "доставка не подтверждена"


class OutboundMessage(models.Model):
    """A message to a customer (a reply, the bot's receipt) or to a manager (a new-lead notice), sent by a job.

    `key` is the idempotency key: one row — and so at most one send — per cause (e.g. per lead
    message answered). States: pending → sending (committed before the call) → sent | failed;
    a job that finds `sending` left by a dead attempt marks it unconfirmed and does not send.
    A message of several parts (text, then files) counts the parts already delivered in
    `parts_done`, so a resend continues after them.
    """

    channel = models.CharField("канал", max_length=16, choices=Channel.choices)
    integration = models.ForeignKey(
        IntegrationSettings, verbose_name="интеграция", on_delete=models.PROTECT, related_name="outbound_messages"
    )
    key = models.CharField("ключ идемпотентности", max_length=200, unique=True)
    # Telegram: the chat id; WhatsApp and e-mail: a masked address (the real one is in `meta`).
    chat_id = models.CharField("чат / получатель", max_length=64)
    text = EncryptedTextField("текст (зашифрован)")
    # Channel-neutral buttons [{"text", "data"}]: Telegram's inline_keyboard (callback_data),
    # WhatsApp's interactive reply buttons (id).
    buttons = models.JSONField("кнопки", default=list, blank=True)
    # [{"key", "name", "content_type", "size", "document_id"?}] — files in object storage.
    attachments = EncryptedJSONField("вложения (зашифровано)", default=list, blank=True)
    # Per channel: {"to"} (WhatsApp, e-mail), {"subject", "in_reply_to", "references"} (e-mail).
    meta = EncryptedJSONField("адресат и заголовки (зашифровано)", default=dict, blank=True)
    lead_pk = models.BigIntegerField("ID заявки", null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="отправил", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    status = models.CharField(
        "статус", max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField("попыток", default=0)
    attempt_started_at = models.DateTimeField("начало попытки", null=True, blank=True)
    parts_done = models.PositiveSmallIntegerField("отправлено частей", default=0)
    error = models.CharField("последняя ошибка", max_length=500, blank=True)
    external_id = models.CharField("ID у мессенджера / Message-ID", max_length=255, blank=True)
    created_at = models.DateTimeField("создано", auto_now_add=True)
    sent_at = models.DateTimeField("отправлено", null=True, blank=True)
    # A Telegram text reply's first attempt belongs to the replies drain (apps/integrations/drain.py):
    # one job sends whatever text replies are waiting, many at once. A message leaves the drain
    # (False) when that attempt delivered nothing: its retries are its own send_outbound job.
    by_drain = models.BooleanField("в общей очереди ответов", default=False)
    # The drain job whose attempt holds the message in `sending` (to tell a dead attempt from a live one).
    drain_job_id = models.BigIntegerField("задача очереди ответов", null=True, blank=True)

    class Meta:
        verbose_name = "исходящее сообщение"
        verbose_name_plural = "исходящие сообщения"
        ordering = ["-id"]
        indexes = [
            # The drain's claim: the waiting text replies, oldest first (a few rows at any time).
            models.Index(fields=["id"], name="outbound_drain_pending_idx",
                         condition=models.Q(by_drain=True, status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.chat_id} ({self.get_status_display()})"

    @property
    def can_resend(self) -> bool:
        return self.status in (OutboundStatus.UNCONFIRMED, OutboundStatus.FAILED)
