"""Who may do what with leads: operators and supervisors work with them; accountants read."""

_WORK = [
    "leads.view_lead",
    "leads.add_lead",
    "leads.change_lead",
    "leads.view_leadmessage",
    "leads.view_leadattachment",
]

ROLE_PERMISSIONS = {
    "operator": _WORK,
    "accountant": ["leads.view_lead", "leads.view_leadmessage", "leads.view_leadattachment"],
    "supervisor": [*_WORK, "leads.delete_lead"],
}
