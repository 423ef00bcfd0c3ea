"""Errors a user can cause in domain code; interfaces turn them into clear 4xx answers."""


class DomainError(Exception):
    """A request that the domain refuses; nothing was changed."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidTransition(DomainError):
    """The appeal's current status does not allow this step."""

    status_code = 409
    code = "invalid_transition"
