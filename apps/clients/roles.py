"""Permissions of the clients app per role (applied to the groups by apps.accounts.roles)."""

_CHILDREN = ("clientcontact", "clientpassport", "clientfile")
_CONSENTS = ("consent", "consenttext")


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"clients.{action}_{model}" for model in models for action in actions]


ROLE_PERMISSIONS = {
    "operator": [
        *_perms(("view", "add", "change"), ("client",)),
        *_perms(("view", "add", "change", "delete"), _CHILDREN),
        *_perms(("view", "add", "change"), _CONSENTS),
        "clients.view_personal_data",
    ],
    # The accountant sees clients for payments and reports, with personal data masked.
    "accountant": _perms(("view",), ("client", *_CHILDREN, *_CONSENTS)),
    "supervisor": [
        *_perms(("view", "add", "change", "delete"), ("client", *_CHILDREN)),
        *_perms(("view", "add", "change"), _CONSENTS),
        "clients.view_personal_data",
    ],
}
