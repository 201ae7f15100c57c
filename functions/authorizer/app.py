"""HTTP API Lambda authorizer: resolves the Bearer key to a principal (cached by API Gateway).

An unknown key is let through as `anonymous` so the route can answer 401 as SPEC §3 requires;
HTTP API authorizers themselves can only answer 403.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.fleets import auth
from ridecast.observability import logger
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = event.get("headers") or {}
    principal = auth.authenticate(ports(), headers.get("authorization"))
    if principal is None:
        return {"isAuthorized": True, "context": {"principal": "anonymous"}}
    return {
        "isAuthorized": True,
        "context": {
            "principal": principal.kind,
            "fleet_id": principal.fleet_id or "",
            "role": principal.role or "",
            "key_id": principal.key_id or "",
        },
    }
