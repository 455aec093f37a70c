"""What each role may do in finance (applied to the role groups after every migrate)."""

ROLE_PERMISSIONS = {
    "operator": [
        "finance.view_payment",
        "finance.view_currencyrate",
    ],
    "accountant": [
        "finance.view_payment",
        "finance.add_payment",
        "finance.change_payment",
        "finance.view_reports",
        "finance.export_payments",
        "finance.view_currencyrate",
        "finance.add_currencyrate",
        "finance.change_currencyrate",
        "finance.view_agencyrequisites",
    ],
    "supervisor": [
        "finance.view_payment",
        "finance.add_payment",
        "finance.change_payment",
        "finance.delete_payment",
        "finance.view_reports",
        "finance.export_payments",
        "finance.view_currencyrate",
        "finance.add_currencyrate",
        "finance.change_currencyrate",
        "finance.delete_currencyrate",
        "finance.view_agencyrequisites",
        "finance.add_agencyrequisites",
        "finance.change_agencyrequisites",
    ],
}
