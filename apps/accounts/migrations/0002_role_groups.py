"""Create the role groups (operator, accountant, supervisor).

Their permissions are set by apps.accounts.roles.sync_role_groups, which also runs after every
migrate so permissions of models added later by other apps are assigned too.
"""

from django.db import migrations


def create_role_groups(apps, schema_editor):
    from apps.accounts.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
