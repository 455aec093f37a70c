"""Models of the documents app: versioned templates and the generated PDF documents of orders."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    CONTRACT = "contract", _("Договор")
    INVOICE = "invoice", _("Счёт")
    ACT = "act", _("Акт")
    OFFER = "offer", _("Коммерческое предложение")


# Types an accountant (no "view_all_document_types" permission) may read.
FINANCIAL_TYPES = frozenset({DocumentType.INVOICE, DocumentType.ACT})


class DocumentTemplate(models.Model):
    """One template per document type; its text lives in versions, exactly one of them active."""

    type = models.CharField(_("тип документа"), max_length=20, choices=DocumentType.choices, unique=True)
    name = models.CharField(_("название"), max_length=200)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("шаблон документа")
        verbose_name_plural = _("шаблоны документов")
        ordering = ["type"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=[choice.value for choice in DocumentType]), name="doctemplate_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.name}"


class DocumentTemplateVersion(models.Model):
    """An uploaded text of a template (Jinja2 HTML + CSS). Never edited: a change is a new version."""

    template = models.ForeignKey(
        DocumentTemplate, verbose_name=_("шаблон"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("версия"))
    body = models.TextField(_("HTML-шаблон (Jinja2)"))
    css = models.TextField(_("CSS"), blank=True)
    comment = models.CharField(_("комментарий"), max_length=300, blank=True)
    is_active = models.BooleanField(_("активна"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("загрузил"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("загружена"), default=timezone.now)

    class Meta:
        verbose_name = _("версия шаблона")
        verbose_name_plural = _("версии шаблонов")
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="doctemplateversion_unique_number"),
            models.UniqueConstraint(
                fields=["template"], condition=Q(is_active=True), name="doctemplateversion_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} — версия {self.version}"


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Черновик")
    SENT = "sent", _("Отправлен")
    SIGNED = "signed", _("Подписан")


class Document(models.Model):
    """A generated PDF. Each generation is a new version per (order, type); files are never replaced."""

    type = models.CharField(_("тип"), max_length=20, choices=DocumentType.choices)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("заказ"), on_delete=models.PROTECT, related_name="documents"
    )
    version = models.PositiveIntegerField(_("версия"))
    number = models.CharField(_("номер"), max_length=40)
    file = models.FileField(_("файл (ключ в хранилище)"), max_length=255)
    size = models.PositiveIntegerField(_("размер, байт"), default=0)
    template_version = models.ForeignKey(
        DocumentTemplateVersion, verbose_name=_("версия шаблона"), on_delete=models.PROTECT, related_name="documents"
    )
    status = models.CharField(_("статус"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("сформировал"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    generated_at = models.DateTimeField(_("сформирован"), default=timezone.now)
    # What the checks said at generation (warnings shown, confirmations given): kept with the document.
    checks = models.JSONField(_("проверки при формировании"), default=list, blank=True)
    confirmed = models.BooleanField(
        _("сформирован с подтверждением"), default=False,
        help_text=_("Пользователь подтвердил формирование вопреки проверке (например, акт до окончания услуг)."),
    )
    sent_at = models.DateTimeField(_("отправлен"), null=True, blank=True)
    signed_at = models.DateTimeField(_("подписан"), null=True, blank=True)

    class Meta:
        verbose_name = _("документ")
        verbose_name_plural = _("документы")
        ordering = ["-generated_at", "-id"]
        permissions = [
            ("view_all_document_types", _("Может видеть документы всех типов (договоры и КП, не только счета и акты)")),
        ]
        indexes = [models.Index(fields=["order", "type", "-version"], name="document_order_type_idx")]
        constraints = [
            models.UniqueConstraint(fields=["order", "type", "version"], name="document_unique_version"),
            models.CheckConstraint(
                condition=Q(type__in=[choice.value for choice in DocumentType]), name="document_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in DocumentStatus]), name="document_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} № {self.number}"
