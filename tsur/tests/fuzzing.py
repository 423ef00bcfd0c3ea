"""Fuzzing an OpenAPI description in process with schemathesis: each operation gets examples drawn
by hypothesis (valid and invalid ones), sent to the Django WSGI application as a role drawn for
each example, with path parameters taken now and then from the fixture region so that requests
reach real appeals, photos and tickets and not only 404s. Every response is checked: no 5xx, and
status, content type, headers and body as the description says."""

import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

# Examples per operation and generation mode; TSUR_FUZZ_EXAMPLES=500 for a long hunt by hand.
EXAMPLES = int(os.environ.get("TSUR_FUZZ_EXAMPLES", "12"))
# drf-spectacular documents the success of each operation, not its 4xx: a status it does not name is
# no failure, but every answer it does describe must match, and no answer may be a 5xx.
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
WSGI = get_wsgi_application()


@dataclass
class Tally:
    """What the fuzzer sent and how it went, printed with -s and shown with a failure."""

    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: dict = field(default_factory=dict)  # (operation, what failed) → the first example
    started: float = field(default_factory=time.monotonic)

    def report(self) -> str:
        lines = [f"{n:5} {label}" for label, n in sorted(self.requests.items())]
        lines.append(f"{sum(self.requests.values())} requests in {time.monotonic() - self.started:.1f} s")
        lines.append("statuses: " + ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses.items())))
        return "\n".join(lines)


def load(path_or_dict):
    """The description served at a path of the application, or given as a dict (Open311's)."""
    if isinstance(path_or_dict, str):
        with _connection_kept():
            return schemathesis.openapi.from_wsgi(path_or_dict, WSGI)
    schema = schemathesis.openapi.from_dict(path_or_dict)
    schema.app = WSGI
    return schema


def fuzz(schema, *, credentials, real_parameters, tally: Tally, examples: int = EXAMPLES):
    """Run every operation of `schema`: `credentials` maps a role to the headers and query it sends
    (anonymous: nothing); `real_parameters` maps a path parameter's name to values of the region."""
    roles = sorted(credentials)
    with _connection_kept():
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _examples(operation, mode, roles, credentials, real_parameters, tally, examples)
    return tally


@contextmanager
def _connection_kept():
    """The WSGI handler closes the database connection after each request, and with it the test's
    transaction; Django's test client keeps it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _examples(operation, mode, roles, credentials, real_parameters, tally, examples):
    label = f"{operation.method.upper()} {operation.path}"
    real = {
        name: st.one_of(st.none(), st.sampled_from(values))
        for name, values in real_parameters.items()
        if any(p.name == name for p in operation.path_parameters)
    }

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the suite must not fail at random; a long hunt sets its own seed
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        role=st.sampled_from(roles),
        real=st.fixed_dictionaries(real),
    )
    def run(case, role, real):
        cache.clear()  # rate limits would answer most examples with 429
        for name, value in real.items():
            if value is not None:
                case.path_parameters[name] = value
        headers, query = credentials[role]
        if query:
            case.query = {**(case.query or {}), **query}
        tally.requests[label] += 1
        response = case.call(headers=headers)
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as error:
            for failure in error.exceptions:
                tally.failures.setdefault((label, failure.title), f"{label} as {role}: {error}")

    try:
        run()
    except Unsatisfiable:
        # an operation whose every input is a path parameter of a fixed pattern has no invalid request
        # that still reaches it; the valid ones were sent
        if mode is not GenerationMode.NEGATIVE:
            raise
