"""Integration settings and the raw inbox are the supervisor's (consents: the clients' registry)."""

ROLE_PERMISSIONS = {
    "operator": [],
    "accountant": [],
    "supervisor": [
        "integrations.view_integrationsettings",
        "integrations.add_integrationsettings",
        "integrations.change_integrationsettings",
        "integrations.manage_integrations",
        "integrations.view_inboxitem",
        "integrations.change_inboxitem",
    ],
}
