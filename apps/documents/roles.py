"""What each role may do with documents and templates (applied by accounts.sync_role_groups).

Operators generate documents and mark them sent/signed; accountants read invoices and acts only
(no ``view_all_document_types``); supervisors manage templates and see everything.
"""

_DOCS_READ_ALL = ["documents.view_document", "documents.view_all_document_types"]
_TEMPLATES_READ = ["documents.view_documenttemplate", "documents.view_documenttemplateversion"]

ROLE_PERMISSIONS = {
    "operator": _DOCS_READ_ALL + ["documents.add_document", "documents.change_document"] + _TEMPLATES_READ,
    "accountant": ["documents.view_document"],
    "supervisor": _DOCS_READ_ALL
    + ["documents.add_document", "documents.change_document"]
    + _TEMPLATES_READ
    + [
        "documents.add_documenttemplate",
        "documents.change_documenttemplate",
        "documents.add_documenttemplateversion",
        "documents.change_documenttemplateversion",
    ],
}
