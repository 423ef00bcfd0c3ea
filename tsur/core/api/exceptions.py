"""Domain refusals become clear 4xx answers with a message a person can act on."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tsur.core.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
