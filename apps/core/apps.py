from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Общее"

    def ready(self):
        install_russian_decimal_fields()


def install_russian_decimal_fields() -> None:
    """Every admin form's decimal field (money, rates, percents) reads «50 000,50» as Russians type it.

    The admin takes its per-model-field form defaults from FORMFIELD_FOR_DBFIELD_DEFAULTS: inlines
    are built per request and read it then; the ModelAdmins registered before this app's ready()
    (admin autodiscovery runs first) copied it already, so they get the entry too — unless one set
    its own DecimalField override on purpose.
    """
    from django.contrib import admin
    from django.contrib.admin import options
    from django.db import models

    from apps.core.forms import RuDecimalField

    entry = {"form_class": RuDecimalField}
    options.FORMFIELD_FOR_DBFIELD_DEFAULTS[models.DecimalField] = entry
    for model_admin in admin.site._registry.values():
        model_admin.formfield_overrides.setdefault(models.DecimalField, dict(entry))
