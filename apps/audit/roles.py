"""Only supervisors read the audit log, the access log and the destruction acts."""

ROLE_PERMISSIONS = {
    "operator": [],
    "accountant": [],
    "supervisor": [
        "auditlog.view_logentry",
        "audit.view_accesslogentry",
        "audit.view_destructionrecord",
        "audit.export_personal_data",
        "audit.anonymize_client",
    ],
}
