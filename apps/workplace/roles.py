"""Managers and supervisors set and close reminders; accountants see and close their own."""

_ALL = ["workplace.view_reminder", "workplace.add_reminder", "workplace.change_reminder", "workplace.delete_reminder"]

ROLE_PERMISSIONS = {
    "operator": _ALL,
    "accountant": _ALL,
    "supervisor": _ALL,
}
