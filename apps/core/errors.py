"""Business errors raised by services; the API turns them into the one error format.

Services never import the API layer: they raise BusinessError (or Django's ValidationError for
field rules) and travelcrm.api.exception_handler renders `{"code", "detail", "fields", ...}`.
"""

from typing import Any


class BusinessError(Exception):
    """A rule of the business refused the operation. Rendered as a 4xx with a machine code."""

    status_code = 400
    default_code = "business_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code
        # Extra keys go into the response body next to code/detail/fields (e.g. "matches").
        self.extra = extra


class ConflictError(BusinessError):
    """The request conflicts with the current state (duplicate, forbidden transition): 409."""

    status_code = 409
    default_code = "conflict"
