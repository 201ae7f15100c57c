"""The API as its own OpenAPI document describes it (SPEC §3): schemathesis reads GET /openapi.json from the
local stack and sends every operation bounded, generated requests, valid and invalid, with a fleet admin key
(the root key for POST /fleets) so the authorised paths run too. No answer may be a 5xx; every answer must be
one the document lists for that operation, with the content type, headers and body schema it gives; and every
request that breaks the document must be refused.

Not checked: that every request the document allows is accepted. The document cannot say everything a
request is checked against (an IANA time zone, a cursor this API issued, a matching timeout not below the
response window, an offer token that exists), and those answers are 4xx the document does list."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.stack import ROOT_KEY, StackClient, StackProcess
from tests.fixtures import http_api_routes

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    negative_data_rejection,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation and generation mode: bounded so the whole run stays within about a minute on two cores.
EXAMPLES = 12
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure replays
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _exercise(
    operation: schemathesis.APIOperation, mode: GenerationMode, admin_key: str, base_url: str, session: requests.Session
) -> Callable[[], None]:
    # Fleets are created by the root key; everything else a fleet key may do, a fleet admin may.
    creates_fleets = (operation.method.upper(), operation.path) == ("POST", "/fleets")
    key = {"Authorization": f"Bearer {ROOT_KEY if creates_fleets else admin_key}"}

    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        # A negative case may leave the key out on purpose (then it must be refused): keep it left out.
        headers = {} if operation.schema.is_security_param_negated(case) else key
        case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS)

    return run


def test_every_answer_is_one_the_document_describes(stack: StackClient, stack_process: StackProcess) -> None:
    # Given the document the stack serves, and a fleet of its own (the drivers and rides it makes up stay there)
    admin_key = stack.create_fleet().api_key
    schema = schemathesis.openapi.from_url(f"{stack_process.base_url}/openapi.json")
    session = requests.Session()
    failures: list[str] = []
    started = time.monotonic()
    described = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items() for method in item}
    assert described == {f"{method} {path}" for method, path in http_api_routes()}
    # (schemathesis leaves out the operation that serves the document itself)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # When each operation gets generated requests, valid ones and invalid ones
            try:
                _exercise(operation, mode, admin_key, stack_process.base_url, session)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"no valid request for {operation.label}"
                # Nothing in this operation can be sent wrong (no parameters, no body): nothing to try.
            except (Exception, BaseExceptionGroup) as error:  # collected: one report names every failing one
                failures.append(f"{operation.label} ({mode.value}):\n{error}")
    # Then schemathesis' checks held for every answer: no 5xx; status, content type and body as documented
    assert not failures, "\n\n".join(failures)
    print(f"schemathesis: {len(operations)} operations in {time.monotonic() - started:.1f}s")
