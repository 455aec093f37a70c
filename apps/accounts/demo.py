"""Demo staff accounts, one per role (password printed for the demo only)."""

from apps.accounts.models import Role, User

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = [
    ("operator@demo.travelcrm", "Ольга Менеджерова", Role.OPERATOR),
    ("accountant@demo.travelcrm", "Анна Бухгалтерова", Role.ACCOUNTANT),
    ("supervisor@demo.travelcrm", "Сергей Руководителев", Role.SUPERVISOR),
]


def load_demo(stdout) -> None:
    for email, full_name, role in DEMO_USERS:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name, "role": role})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
    stdout.write(f"Демо-пользователи: {', '.join(e for e, _, _ in DEMO_USERS)} (пароль {DEMO_PASSWORD})")
