"""The role matrix: for every API operation, the status each role gets. One table, checked.

tests/test_role_matrix.py calls every operation of the generated OpenAPI schema as each role
against real objects and compares the answers with this table; an operation without an entry
fails the suite, printing the observed answers to paste here once they are what each role
should get. docs/api.md carries the same table: `python -m travelcrm.role_matrix --write`.

Adding an endpoint: add its line here (the failing test prints the observed answers), after
checking each is what that role SHOULD get; then `python -m travelcrm.role_matrix --write`
regenerates docs/api.md's table.

Statuses: 2xx the role may do it (with the test's body); 400/409 allowed, but the test's body or
the object's state is refused (still a permission answer); 403 the role may not; 401 not signed in.
"""

import sys
from pathlib import Path

ROLES = ("anonymous", "operator", "accountant", "supervisor")

MATRIX: dict[str, tuple[int, int, int, int]] = {
    "GET /api/v1/finance/agent-reports/{supplier_id}/": (401, 403, 200, 200),  # issue 17: отчёт агента
    "GET /api/v1/finance/supplier-statements/{supplier_id}/": (401, 403, 200, 200),  # issue 17: акт сверки
    # issue 17: reports (XLSX, supplier debts, sales and margin, funnel) and supplier payments
    "GET /api/v1/reports/clients/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/commissions/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/debts/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/funnel/": (401, 403, 200, 200),
    "GET /api/v1/reports/funnel/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/funnel/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/fx/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/orders/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/sales/": (401, 403, 200, 200),
    "GET /api/v1/reports/sales/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/sales/xlsx/": (401, 403, 200, 200),
    "GET /api/v1/reports/supplier-debts/": (401, 403, 200, 200),
    "GET /api/v1/reports/supplier-debts/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/supplier-debts/xlsx/": (401, 403, 200, 200),
    "DELETE /api/v1/supplier-payments/{id}/": (401, 403, 403, 204),
    "GET /api/v1/orders/{order_id}/supplier-payments/": (401, 200, 200, 200),
    "GET /api/v1/supplier-payments/": (401, 200, 200, 200),
    "GET /api/v1/supplier-payments/{id}/": (401, 200, 200, 200),
    "PATCH /api/v1/supplier-payments/{id}/": (401, 403, 200, 200),
    "POST /api/v1/orders/{order_id}/supplier-payments/": (401, 403, 201, 201),
    "POST /api/v1/supplier-payments/": (401, 403, 201, 201),
    "PUT /api/v1/supplier-payments/{id}/": (401, 403, 400, 400),
    "DELETE /api/v1/clients/{client_id}/contacts/{id}/": (401, 204, 403, 204),
    "DELETE /api/v1/clients/{client_id}/files/{id}/": (401, 204, 403, 204),
    "DELETE /api/v1/clients/{client_id}/passports/{id}/": (401, 204, 403, 204),
    "DELETE /api/v1/clients/{id}/": (401, 403, 403, 204),
    "DELETE /api/v1/leads/{id}/": (401, 403, 403, 204),
    "DELETE /api/v1/orders/{id}/": (401, 403, 403, 409),
    "DELETE /api/v1/orders/{order_id}/services/{id}/": (401, 204, 403, 204),
    "DELETE /api/v1/payments/{id}/": (401, 403, 403, 204),
    "DELETE /api/v1/suppliers/{id}/": (401, 403, 403, 204),
    "GET /api/v1/audit/": (401, 403, 403, 200),
    "GET /api/v1/audit/access/": (401, 403, 403, 200),
    "GET /api/v1/audit/access/{id}/": (401, 403, 403, 200),
    "GET /api/v1/audit/destructions/": (401, 403, 403, 200),
    "GET /api/v1/audit/destructions/{id}/": (401, 403, 403, 200),
    "GET /api/v1/audit/destructions/{id}/act/": (401, 403, 403, 200),
    "GET /api/v1/audit/{id}/": (401, 403, 403, 200),
    "GET /api/v1/clients/{id}/personal-data/": (401, 403, 403, 200),
    "POST /api/v1/clients/{id}/anonymize/": (401, 403, 403, 400),
    "GET /api/v1/clients/{client_id}/consents/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/consents/{id}/": (401, 200, 200, 200),
    "GET /api/v1/clients/{id}/consent-pdf/": (401, 200, 403, 200),
    "POST /api/v1/clients/{client_id}/consents/": (401, 400, 403, 400),
    "POST /api/v1/clients/{client_id}/consents/{id}/withdraw/": (401, 200, 403, 200),
    "GET /api/v1/auth/me/": (401, 200, 200, 200),
    "GET /api/v1/clients/": (401, 200, 200, 200),
    "GET /api/v1/clients/import/example/": (401, 200, 200, 200),
    # issue 15: the progress of long work — one's own, or everybody's for the supervisor
    "GET /api/v1/jobs/{id}/": (401, 404, 404, 200),
    "GET /api/v1/clients/{client_id}/contacts/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/contacts/{id}/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/files/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/files/{id}/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/files/{id}/download/": (401, 302, 403, 302),
    "GET /api/v1/clients/{client_id}/passports/": (401, 200, 200, 200),
    "GET /api/v1/clients/{client_id}/passports/{id}/": (401, 200, 200, 200),
    "GET /api/v1/clients/{id}/": (401, 200, 200, 200),
    "GET /api/v1/document-templates/": (401, 200, 403, 200),
    "GET /api/v1/document-templates/{id}/": (401, 200, 403, 200),
    "GET /api/v1/document-templates/{id}/versions/": (401, 200, 403, 200),
    "GET /api/v1/document-templates/{id}/versions/{number}/": (401, 200, 403, 200),
    "GET /api/v1/documents/": (401, 200, 200, 200),
    "GET /api/v1/documents/{id}/": (401, 200, 200, 200),
    "GET /api/v1/documents/{id}/download/": (401, 200, 200, 200),
    "GET /api/v1/exports/1c/payments/": (401, 403, 200, 200),
    "GET /api/v1/exports/payments/other/": (401, 403, 200, 200),
    "GET /api/v1/finance/rates/": (401, 200, 200, 200),
    "GET /api/v1/finance/rates/{id}/": (401, 200, 200, 200),
    "GET /api/v1/finance/requisites/": (401, 403, 200, 200),
    "GET /api/v1/integrations/whatsapp/{id}/webhook/": (403, 403, 403, 403),
    "GET /api/v1/leads/": (401, 200, 200, 200),
    "GET /api/v1/leads/{id}/": (401, 200, 200, 200),
    "GET /api/v1/orders/": (401, 200, 200, 200),
    "GET /api/v1/orders/{id}/": (401, 200, 200, 200),
    "GET /api/v1/orders/{id}/check/": (401, 200, 200, 200),
    "GET /api/v1/orders/{id}/timeline/": (401, 200, 200, 200),
    "GET /api/v1/orders/{order_id}/documents/": (401, 200, 200, 200),
    "GET /api/v1/orders/{order_id}/documents/checks/": (401, 400, 403, 400),
    "GET /api/v1/orders/{order_id}/payments/": (401, 200, 200, 200),
    "GET /api/v1/orders/{order_id}/services/": (401, 200, 200, 200),
    "GET /api/v1/orders/{order_id}/services/{id}/": (401, 200, 200, 200),
    "GET /api/v1/payments/": (401, 200, 200, 200),
    "GET /api/v1/payments/{id}/": (401, 200, 200, 200),
    "GET /api/v1/reports/clients/": (401, 403, 200, 200),
    "GET /api/v1/reports/clients/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/commissions/": (401, 403, 200, 200),
    "GET /api/v1/reports/commissions/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/debts/": (401, 403, 200, 200),
    "GET /api/v1/reports/debts/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/fx/": (401, 403, 200, 200),
    "GET /api/v1/reports/fx/csv/": (401, 403, 200, 200),
    "GET /api/v1/reports/orders/": (401, 403, 200, 200),
    "GET /api/v1/reports/orders/csv/": (401, 403, 200, 200),
    "GET /api/v1/settings/integrations/list": (401, 403, 403, 200),
    "GET /api/v1/suppliers/": (401, 200, 200, 200),
    "GET /api/v1/suppliers/{id}/": (401, 200, 200, 200),
    "PATCH /api/v1/clients/{client_id}/contacts/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/clients/{client_id}/passports/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/clients/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/finance/requisites/": (401, 403, 403, 200),
    "PATCH /api/v1/leads/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/orders/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/orders/{order_id}/services/{id}/": (401, 200, 403, 200),
    "PATCH /api/v1/payments/{id}/": (401, 403, 200, 200),
    "PATCH /api/v1/suppliers/{id}/": (401, 200, 403, 200),
    "POST /api/v1/auth/logout/": (401, 400, 400, 400),
    "POST /api/v1/auth/logout-all/": (401, 205, 205, 205),
    "POST /api/v1/auth/password/": (401, 200, 200, 200),
    "POST /api/v1/auth/token/": (200, 200, 200, 200),
    "POST /api/v1/auth/token/refresh/": (400, 400, 400, 400),
    "POST /api/v1/clients/": (401, 201, 403, 201),
    "POST /api/v1/clients/import/": (401, 200, 403, 200),
    "POST /api/v1/clients/{client_id}/contacts/": (401, 201, 403, 201),
    "POST /api/v1/clients/{client_id}/files/": (401, 201, 403, 201),
    "POST /api/v1/clients/{client_id}/passports/": (401, 201, 403, 201),
    "POST /api/v1/clients/{id}/merge/": (401, 403, 403, 200),
    "POST /api/v1/document-templates/": (401, 403, 403, 201),
    "POST /api/v1/document-templates/{id}/versions/{number}/activate/": (401, 403, 403, 200),
    "POST /api/v1/documents/{id}/mark-sent/": (401, 200, 403, 200),
    "POST /api/v1/documents/{id}/mark-signed/": (401, 200, 403, 200),
    "POST /api/v1/finance/rates/": (401, 403, 201, 201),
    "POST /api/v1/integrations/telegram/{id}/webhook/": (403, 403, 403, 403),
    "POST /api/v1/integrations/whatsapp/{id}/webhook/": (403, 403, 403, 403),
    "POST /api/v1/leads/": (401, 201, 403, 201),
    "POST /api/v1/leads/{id}/convert/": (401, 201, 403, 201),
    "POST /api/v1/leads/{id}/link-client/": (401, 200, 403, 200),
    "POST /api/v1/leads/{id}/merge-into/": (401, 400, 403, 400),
    "POST /api/v1/leads/{id}/reject/": (401, 200, 403, 200),
    "POST /api/v1/leads/{id}/take/": (401, 200, 403, 200),
    "POST /api/v1/orders/": (401, 201, 403, 201),
    "POST /api/v1/orders/{id}/cancel/": (401, 200, 403, 200),
    "POST /api/v1/orders/{id}/complete/": (401, 409, 403, 409),
    "POST /api/v1/orders/{id}/confirm/": (401, 409, 403, 409),  # the world's order is confirmed (it has payments)
    "POST /api/v1/orders/{id}/mark-paid/": (401, 409, 403, 409),  # it still owes: needs override_reason
    "POST /api/v1/orders/{id}/reopen/": (401, 409, 403, 409),
    "POST /api/v1/orders/{order_id}/documents/": (401, 201, 403, 201),
    "POST /api/v1/orders/{order_id}/payments/": (401, 403, 201, 201),
    "POST /api/v1/orders/{order_id}/services/": (401, 201, 403, 201),
    "POST /api/v1/payments/": (401, 403, 201, 201),
    "POST /api/v1/public/leads/": (201, 201, 201, 201),
    "POST /api/v1/settings/integrations/activate": (401, 403, 403, 400),
    "POST /api/v1/settings/integrations/add": (401, 403, 403, 400),
    "POST /api/v1/settings/integrations/deactivate": (401, 403, 403, 400),
    "POST /api/v1/settings/integrations/update": (401, 403, 403, 400),
    "POST /api/v1/suppliers/": (401, 201, 403, 201),
    "PUT /api/v1/finance/requisites/": (401, 403, 403, 200),
    "PUT /api/v1/leads/{id}/": (401, 200, 403, 200),
    "PUT /api/v1/orders/{id}/": (401, 400, 403, 400),
    "PUT /api/v1/orders/{order_id}/services/{id}/": (401, 400, 403, 400),
    "PUT /api/v1/payments/{id}/": (401, 403, 400, 400),
    "PUT /api/v1/suppliers/{id}/": (401, 200, 403, 200),
}


def docs_table() -> str:
    """The Markdown table of docs/api.md (between its role-matrix markers)."""
    lines = [
        "| Operation | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for operation in sorted(MATRIX, key=lambda op: (op.split(" ", 1)[1], op)):
        method, path = operation.split(" ", 1)
        path = path.removeprefix("/api/v1")
        lines.append(f"| `{method} {path}` | " + " | ".join(str(code) for code in MATRIX[operation]) + " |")
    return "\n".join(lines) + "\n"


DOCS_FILE = Path(__file__).resolve().parent.parent / "docs" / "api.md"
START = "<!-- role-matrix:start (generated: python -m travelcrm.role_matrix --write) -->\n"
END = "<!-- role-matrix:end -->"


def write_docs() -> None:
    """Replace the table between the markers of docs/api.md."""
    text = DOCS_FILE.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOCS_FILE.write_text(head + START + docs_table() + END + tail, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_docs()
    else:
        print(docs_table(), end="")
