"""Load the default Russian templates (contract, invoice, act, offer) as version 1 of each type."""

from django.db import migrations


def load(apps, schema_editor):
    from apps.documents.services import load_default_templates

    load_default_templates(
        template_model=apps.get_model("documents", "DocumentTemplate"),
        version_model=apps.get_model("documents", "DocumentTemplateVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
