"""Keep the role groups in sync: after every migrate, and whenever a user's role changes."""

from django.contrib.auth.models import Group
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import User
from apps.accounts.roles import sync_role_groups


def sync_groups_after_migrate(sender, using="default", **kwargs) -> None:
    # Permissions are created per app in post_migrate; make sure all exist before assigning them.
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups()


@receiver(post_save, sender=User, dispatch_uid="accounts.user_role_group")
def put_user_in_role_group(sender, instance: User, raw=False, **kwargs) -> None:
    if raw:
        return
    role_groups = Group.objects.filter(name__in=[choice for choice, _ in User._meta.get_field("role").choices])
    current = set(instance.groups.filter(pk__in=role_groups).values_list("name", flat=True))
    if current != {instance.role}:
        instance.groups.remove(*role_groups)
        group = role_groups.filter(name=instance.role).first()
        if group is not None:
            instance.groups.add(group)
