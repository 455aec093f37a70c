"""Clients: a person with contacts, passports (kept as history) and scanned files.

Personal data (contact values, passport series/number/issued-by, birth date, file names) is
encrypted at rest (apps.core.crypto). Contacts and passports carry a blind index of the normalised
value; a partial unique constraint over (kind, blind_index) among *live* rows (not archived) makes
the database the last word on deduplication, so two concurrent creates with one phone cannot both
succeed. Soft-deleting a client archives its contacts and passports (they stop blocking new
clients); merging moves them to the surviving client first.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedCharField, EncryptedDateField, EncryptedTextField
from apps.core.masking import mask_email, mask_passport, mask_phone

PERSONAL_DATA_PERMISSION = "clients.view_personal_data"


class ClientQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(is_deleted=False)


class AliveClientManager(models.Manager.from_queryset(ClientQuerySet)):
    """Default manager: soft-deleted clients are invisible."""

    def get_queryset(self):
        return super().get_queryset().filter(is_deleted=False)


def build_search_name(*parts: str) -> str:
    """Lower-cased names (Cyrillic and Latin), "ё" folded to "е": what ?search= matches against."""
    return " ".join(part.strip() for part in parts if part and part.strip()).lower().replace("ё", "е")


class Client(models.Model):
    last_name = models.CharField(_("фамилия"), max_length=100)
    first_name = models.CharField(_("имя"), max_length=100)
    middle_name = models.CharField(_("отчество"), max_length=100, blank=True)
    last_name_latin = models.CharField(_("фамилия латиницей"), max_length=100, blank=True)
    first_name_latin = models.CharField(_("имя латиницей"), max_length=100, blank=True)
    birth_date = EncryptedDateField(_("дата рождения"), null=True, blank=True)
    citizenship = models.CharField(
        _("гражданство"), max_length=2, blank=True, default="RU", help_text=_("Код страны ISO 3166, например RU.")
    )
    notes = EncryptedTextField(_("заметки"), blank=True)  # free text about a person: encrypted (152-FZ)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ответственный менеджер"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clients",
    )
    search_name = models.TextField(_("строка поиска"), blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)
    is_deleted = models.BooleanField(_("удалён"), default=False)
    deleted_at = models.DateTimeField(_("дата удаления"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("объединён с"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AliveClientManager()
    all_objects = ClientQuerySet.as_manager()

    # Not a column: set by client_create — whether the client came back as an existing one (linked).
    linked: bool

    class Meta:
        verbose_name = _("клиент")
        verbose_name_plural = _("клиенты")
        ordering = ["-id"]
        permissions = [("view_personal_data", _("Может видеть персональные данные без маскировки"))]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="client_name_idx"),
            # Live clients newest first, and count(*) of live clients as an index-only scan.
            models.Index(fields=["-id"], condition=Q(is_deleted=False), name="client_alive_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_deleted=False) | Q(deleted_at__isnull=False), name="client_deleted_has_date"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.search_name = build_search_name(
            self.last_name, self.first_name, self.middle_name, self.last_name_latin, self.first_name_latin
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_name" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_name"]
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        """«Фамилия Имя Отчество»."""
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    @property
    def full_name_latin(self) -> str:
        return " ".join(part for part in (self.last_name_latin, self.first_name_latin) if part)

    def clean(self):
        super().clean()
        if self.citizenship:
            self.citizenship = self.citizenship.strip().upper()
            if len(self.citizenship) != 2 or not self.citizenship.isalpha() or not self.citizenship.isascii():
                raise ValidationError({"citizenship": _("Укажите код страны из двух латинских букв, например RU.")})
        if self.birth_date is not None:
            from django.utils import timezone

            if self.birth_date > timezone.localdate():
                raise ValidationError({"birth_date": _("Дата рождения не может быть в будущем.")})
            if self.birth_date.year < 1900:
                raise ValidationError({"birth_date": _("Проверьте год рождения.")})

class ContactKind(models.TextChoices):
    PHONE = "phone", _("Телефон")
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")


def mask_contact_value(kind: str, value: str | None) -> str:
    if kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        return mask_phone(value)
    if kind == ContactKind.EMAIL:
        return mask_email(value)
    return value[:2] + "***" if value else ""


class ClientContact(models.Model):
    client = models.ForeignKey(Client, verbose_name=_("клиент"), on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("тип"), max_length=16, choices=ContactKind.choices)
    value = EncryptedCharField(_("значение"), max_length=254)
    blind_index = models.CharField(_("слепой индекс"), max_length=64, editable=False)
    is_primary = models.BooleanField(_("основной"), default=False)
    is_archived = models.BooleanField(_("в архиве"), default=False, editable=False)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)

    class Meta:
        verbose_name = _("контакт клиента")
        verbose_name_plural = _("контакты клиентов")
        ordering = ["client_id", "kind", "-is_primary", "id"]
        # A plain btree (db_index on a CharField would add a second, LIKE-only index on PostgreSQL).
        indexes = [models.Index(fields=["blind_index"], name="client_contact_index_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "blind_index"], condition=Q(is_archived=False), name="client_contact_unique_live"
            ),
            models.CheckConstraint(condition=Q(kind__in=ContactKind.values), name="client_contact_kind_valid"),
        ]

    def __str__(self) -> str:
        # Never the plaintext: __str__ ends up in the audit log and in admin messages.
        return f"{self.get_kind_display()}: {self.masked_value}"

    @property
    def masked_value(self) -> str:
        return mask_contact_value(self.kind, self.value)


class PassportKind(models.TextChoices):
    INTERNAL = "internal", _("Паспорт РФ")
    FOREIGN = "foreign", _("Заграничный паспорт")
    BIRTH_CERTIFICATE = "birth_certificate", _("Свидетельство о рождении")


class ClientPassport(models.Model):
    client = models.ForeignKey(Client, verbose_name=_("клиент"), on_delete=models.CASCADE, related_name="passports")
    kind = models.CharField(_("вид документа"), max_length=20, choices=PassportKind.choices)
    series = EncryptedCharField(_("серия"), max_length=20, blank=True)
    number = EncryptedCharField(_("номер"), max_length=30)
    number_index = models.CharField(_("слепой индекс номера"), max_length=64, editable=False)
    issue_date = models.DateField(_("дата выдачи"), null=True, blank=True)
    expiry_date = models.DateField(_("действителен до"), null=True, blank=True)
    issued_by = EncryptedCharField(_("кем выдан"), max_length=300, blank=True)
    is_active = models.BooleanField(_("действующий"), default=True)
    is_archived = models.BooleanField(_("в архиве"), default=False, editable=False)
    created_at = models.DateTimeField(_("добавлен"), auto_now_add=True)

    class Meta:
        verbose_name = _("документ клиента")
        verbose_name_plural = _("документы клиентов")
        ordering = ["client_id", "-is_active", "-issue_date", "id"]
        indexes = [models.Index(fields=["number_index"], name="client_passport_index_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["number_index"], condition=Q(is_archived=False), name="client_passport_unique_live"
            ),
            models.CheckConstraint(condition=Q(kind__in=PassportKind.values), name="client_passport_kind_valid"),
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=True)
                | Q(issue_date__isnull=True)
                | Q(expiry_date__gte=models.F("issue_date")),
                name="client_passport_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_passport(self.series or "", self.number or "")

    def clean(self):
        super().clean()
        if self.issue_date and self.expiry_date and self.expiry_date < self.issue_date:
            raise ValidationError({"expiry_date": _("Срок действия не может заканчиваться раньше даты выдачи.")})


class ClientFile(models.Model):
    client = models.ForeignKey(Client, verbose_name=_("клиент"), on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("файл"), max_length=255)
    original_name = EncryptedCharField(_("имя файла"), max_length=255)
    content_type = models.CharField(_("тип содержимого"), max_length=100)
    size = models.PositiveBigIntegerField(_("размер, байт"))
    description = models.CharField(_("описание"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("загрузил"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("загружен"), auto_now_add=True)

    class Meta:
        verbose_name = _("файл клиента")
        verbose_name_plural = _("файлы клиентов")
        ordering = ["client_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.content_type}, {self.size} Б"


# --- Consents to personal-data processing (152-FZ) ---------------------------------------------------


class ConsentPurpose(models.TextChoices):
    CONTRACT = "contract", _("Исполнение договора о туристском обслуживании")
    TRANSFER = "transfer", _(
        "Передача туроператорам, перевозчикам, гостиницам, страховщикам и консульствам, в том числе за рубеж"
    )
    MARKETING = "marketing", _("Рекламные и информационные рассылки")


class ConsentChannel(models.TextChoices):
    WEB = "web", _("Веб-форма")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("E-mail")
    PAPER = "paper", _("На бумаге")


class ConsentText(models.Model):
    """One version of the consent text, as the person saw it: a snapshot with its SHA-256."""

    version = models.CharField(_("версия"), max_length=32, unique=True)
    body = models.TextField(_("текст согласия"))
    sha256 = models.CharField(_("SHA-256 текста"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("текст согласия на обработку ПДн")
        verbose_name_plural = _("тексты согласия на обработку ПДн")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Версия {self.version} ({self.sha256[:12]}…)"

    def save(self, *args, **kwargs):
        import hashlib

        self.sha256 = hashlib.sha256(self.body.encode("utf-8")).hexdigest()
        super().save(*args, **kwargs)


class Consent(models.Model):
    """A person's consent: a client's, or a lead sender's before they become a client.

    A sender is identified by the blind index of their verified messenger id or e-mail (the same
    index their ClientContact gets), so a consent given in Telegram is found on the client card once
    the sender becomes a client. Lead ids are plain numbers: clients sit below leads (rule 14).
    """

    client = models.ForeignKey(
        Client, verbose_name=_("клиент"), on_delete=models.CASCADE, null=True, blank=True, related_name="consents"
    )
    subject_kind = models.CharField(_("вид идентификатора"), max_length=16, choices=ContactKind.choices, blank=True)
    subject_index = models.CharField(_("слепой индекс отправителя"), max_length=64, blank=True, editable=False)
    # Kept (encrypted) so the index can be recomputed when BLIND_INDEX_KEY is rotated.
    subject_value = EncryptedCharField(_("идентификатор отправителя"), max_length=254, blank=True, default="",
                                       editable=False)
    lead_id = models.BigIntegerField(_("номер заявки (ID)"), null=True, blank=True)
    purposes = ArrayField(models.CharField(max_length=16, choices=ConsentPurpose.choices), verbose_name=_("цели"))
    text = models.ForeignKey(ConsentText, verbose_name=_("текст согласия"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("канал"), max_length=16, choices=ConsentChannel.choices)
    given_at = models.DateTimeField(_("дано"))
    evidence_ip = models.GenericIPAddressField(_("IP-адрес"), null=True, blank=True)
    evidence_user_agent = EncryptedCharField(_("браузер (user agent)"), max_length=500, blank=True, default="")
    evidence_message_id = models.CharField(_("ID сообщения"), max_length=255, blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("оформил сотрудник"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    scan = models.FileField(_("скан подписанного согласия"), max_length=255, blank=True, default="")
    withdrawn_at = models.DateTimeField(_("отозвано"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("отзыв оформил"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("согласие на обработку ПДн")
        verbose_name_plural = _("согласия на обработку ПДн")
        ordering = ["-given_at", "-id"]
        indexes = [
            models.Index(fields=["subject_kind", "subject_index"], name="consent_subject_idx"),
            # The first reply to every new lead asks whether the lead already has a consent.
            models.Index(fields=["lead_id"], condition=Q(lead_id__isnull=False), name="consent_lead_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False) | ~Q(subject_index=""), name="consent_has_subject"
            ),
            models.CheckConstraint(condition=Q(channel__in=ConsentChannel.values), name="consent_channel_valid"),
        ]

    def __str__(self) -> str:
        state = "отозвано" if self.withdrawn_at else "действует"
        return f"Согласие ({self.get_channel_display()}) от {self.given_at:%d.%m.%Y}, {state}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
