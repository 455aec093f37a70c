"""Third-party apps under Russian names in the admin (their own configs name them in English).

(simplejwt's token blacklist cannot be renamed this way — its models check the app's dotted path —
so apps.accounts.admin keeps its technical rows out of the admin instead.)

Each subclass keeps the package's name, label and ready(): only the heading the staff see changes.
"""

from auditlog.apps import AuditlogConfig
from axes.apps import AppConfig as AxesAppConfig


class AuditlogRussianConfig(AuditlogConfig):
    verbose_name = "Журнал изменений"


class AxesRussianConfig(AxesAppConfig):
    verbose_name = "Попытки входа"

