"""Logging filters of the platform."""

import logging

from django.core.exceptions import PermissionDenied


class RefusalsWithoutTraceback(logging.Filter):
    """A request refused for want of a right (PermissionDenied, a 403) is an everyday event: Django
    logs it with the exception's traceback, which buries real errors in the server log. The line
    «Forbidden (Permission denied): /path» stays; the traceback goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
