"""Models of the core app: the data keys of encrypted stored files."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.crypto import EncryptedCharField


class StoredObjectKey(models.Model):
    """The data key of one encrypted object in storage (apps.core.envelope), itself encrypted with
    FIELD_ENCRYPTION_KEY — so rotate_encryption_keys covers files — and deleted with the object."""

    key = models.CharField(_("ключ объекта"), max_length=255, unique=True)
    data_key = EncryptedCharField(_("ключ данных (зашифрован)"), max_length=64)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("ключ шифрования файла")
        verbose_name_plural = _("ключи шифрования файлов")

    def __str__(self) -> str:
        return self.key
