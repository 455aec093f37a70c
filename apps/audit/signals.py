"""Security events in the audit log, caught where every door passes.

- logins, failed logins, logouts: Django's auth signals (the JWT login sends user_logged_in too);
- password, role, activity and superuser changes: a pre_save comparison on the User row, so the
  admin, the API and any future endpoint are all covered without touching their code;
- integration secrets (tokens, webhook secrets): which secret changed, never its value.
"""

from django.apps import apps
from django.contrib.auth import get_user_model, user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save

from apps.core.auditing import audit_event
from apps.core.crypto import EncryptedSecretField
from apps.core.masking import mask_email

USER_WATCHED = ("password", "role", "is_active", "is_superuser", "is_staff")


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def on_login(sender, request, user, **kwargs) -> None:
    audit_event(event="login", target=user, actor=user, data={"ip": _client_ip(request)})


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    email = str((credentials or {}).get("email") or (credentials or {}).get("username") or "")
    User = get_user_model()
    user = User.objects.filter(email__iexact=email.strip()).first() if email else None
    # The attempted login is masked: a mistyped e-mail may be someone's personal address.
    data = {"ip": _client_ip(request), "login": mask_email(email) if email else ""}
    if user is not None:
        audit_event(event="login_failed", target=user, data=data)
    else:
        audit_event(event="login_failed", model=User, data=data, repr_text="неизвестный пользователь")


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_event(event="logout", target=user, actor=user, data={"ip": _client_ip(request)})


def remember_user_before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    instance._audit_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(USER_WATCHED):
        return  # e.g. last_login on every login: nothing watched changes
    instance._audit_before = sender._base_manager.filter(pk=instance.pk).values(*USER_WATCHED).first()


def log_user_security_changes(sender, instance, created=False, raw=False, **kwargs) -> None:
    before = getattr(instance, "_audit_before", None)
    if raw or created or before is None:
        return
    if before["password"] != instance.password:
        audit_event(event="password_changed", target=instance)
    if before["role"] != instance.role:
        audit_event(event="role_changed", target=instance, data={"from": before["role"], "to": instance.role})
    for flag in ("is_active", "is_superuser", "is_staff"):
        if before[flag] != getattr(instance, flag):
            change = {"from": before[flag], "to": getattr(instance, flag)}
            audit_event(event=f"{flag}_changed", target=instance, data=change)
    instance._audit_before = None


def _secret_fields(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedSecretField)]


def remember_secrets_before_save(sender, instance, raw=False, **kwargs) -> None:
    instance._audit_secrets = None
    if raw or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    if old is not None:
        instance._audit_secrets = {name: getattr(old, name) for name in _secret_fields(sender)}


def log_secret_changes(sender, instance, created=False, raw=False, **kwargs) -> None:
    if raw:
        return
    before = getattr(instance, "_audit_secrets", None) or {}
    names = _secret_fields(sender)
    if created:
        changed = [name for name in names if getattr(instance, name)]
    else:
        changed = [name for name in names if before.get(name, "") != getattr(instance, name)]
    if changed:  # named by their Russian labels: "which secret", never its value
        labels = [str(sender._meta.get_field(name).verbose_name) for name in changed]
        audit_event(event="secret_changed", target=instance, data={"fields": labels})
    instance._audit_secrets = None


def connect() -> None:
    User = get_user_model()
    user_logged_in.connect(on_login, dispatch_uid="audit.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    user_logged_out.connect(on_logout, dispatch_uid="audit.logout")
    pre_save.connect(remember_user_before_save, sender=User, dispatch_uid="audit.user_before")
    post_save.connect(log_user_security_changes, sender=User, dispatch_uid="audit.user_after")
    # Every model with secret fields (today the integration settings), found by field type so the
    # audit app needs no import of the integrations app (they are independent layers).
    for model in apps.get_models():
        if _secret_fields(model):
            uid = model._meta.label_lower
            pre_save.connect(remember_secrets_before_save, sender=model, dispatch_uid=f"audit.secrets_before.{uid}")
            post_save.connect(log_secret_changes, sender=model, dispatch_uid=f"audit.secrets_after.{uid}")
