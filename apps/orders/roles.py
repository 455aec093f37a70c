"""What each role may do with orders, services and suppliers (applied by accounts.sync_role_groups)."""

_VIEW = ["orders.view_order", "orders.view_service", "orders.view_supplier", "orders.view_orderevent"]
_EDIT = [
    "orders.add_order",
    "orders.change_order",
    "orders.add_service",
    "orders.change_service",
    "orders.delete_service",
    "orders.add_supplier",
    "orders.change_supplier",
]

ROLE_PERMISSIONS = {
    "operator": _VIEW + _EDIT,
    "accountant": _VIEW,
    "supervisor": _VIEW + _EDIT + ["orders.delete_order", "orders.delete_supplier", "orders.mark_paid_with_debt"],
}
