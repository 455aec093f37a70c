"""Public (non-API) pages of the integrations app, e.g. the web form at /form/."""

urlpatterns: list = []
