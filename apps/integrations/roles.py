"""Integration settings, the raw inbox and consents are the supervisor's."""

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
        "integrations.view_consent",
    ],
}
