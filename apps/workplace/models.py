"""Reminders (задачи): a manager's note to self on a lead, a client or an order, due at a time."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("кому напомнить"), on_delete=models.CASCADE, related_name="reminders"
    )
    due_at = models.DateTimeField(_("когда"))
    text = models.CharField(_("что сделать"), max_length=500)
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("заявка"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("клиент"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("заказ"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    done_at = models.DateTimeField(_("выполнено"), null=True, blank=True)
    created_at = models.DateTimeField(_("создано"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("кто поставил"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("напоминание")
        verbose_name_plural = _("напоминания")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "due_at"], condition=Q(done_at__isnull=True), name="reminder_open_due_idx"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
