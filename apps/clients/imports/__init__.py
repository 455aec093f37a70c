"""CSV import of clients (API, admin, bulk service). Owned separately from the rest of clients."""
