"""POST /fleets (root), GET and PATCH /fleets/{fleet_id} (root or that fleet's admin)."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.fleets import accounts, api_keys, auth
from ridecast.domain.fleets.commands import FleetChanges, NewFleet
from ridecast.http import current_principal, install_error_handlers, json_response
from ridecast.models.api import (
    ApiKeyListOut,
    ApiKeyOut,
    CreateApiKeyRequest,
    CreatedApiKeyOut,
    CreatedFleetOut,
    CreateFleetRequest,
    FleetOut,
    UpdateFleetRequest,
)
from ridecast.observability import logger, metrics, tracer
from ridecast.wiring import ports

app = APIGatewayHttpResolver(enable_validation=True)


def _authorize_route() -> None:
    """Who may call, for requests refused before their route runs: root creates fleets, root or the
    fleet's admin manages one."""
    fleet_id = (app.current_event.path_parameters or {}).get("fleet_id")
    if fleet_id:
        auth.require_fleet_access(current_principal(app), fleet_id)
    else:
        auth.require_root(current_principal(app))


install_error_handlers(app, guard=_authorize_route)


@app.post("/fleets")
def create_fleet(body: CreateFleetRequest) -> Response[Any]:
    auth.require_root(current_principal(app))
    fleet, api_key = accounts.create_fleet(ports(), NewFleet(**body.model_dump()))
    out = CreatedFleetOut(**FleetOut.from_domain(fleet).model_dump(), api_key=api_key)
    return json_response(201, out.model_dump(mode="json"))


@app.get("/fleets/<fleet_id>")
def get_fleet(fleet_id: str) -> Response[Any]:
    auth.require_fleet_access(current_principal(app), fleet_id)
    return json_response(200, FleetOut.from_domain(accounts.get_fleet(ports(), fleet_id)).model_dump(mode="json"))


@app.patch("/fleets/<fleet_id>")
def update_fleet(fleet_id: str, body: UpdateFleetRequest) -> Response[Any]:
    auth.require_fleet_access(current_principal(app), fleet_id)
    fleet = accounts.update_fleet(ports(), fleet_id, FleetChanges(**body.model_dump(exclude_unset=True)))
    return json_response(200, FleetOut.from_domain(fleet).model_dump(mode="json"))


@app.post("/fleets/<fleet_id>/api-keys")
def issue_api_key(fleet_id: str, body: CreateApiKeyRequest) -> Response[Any]:
    auth.require_fleet_access(current_principal(app), fleet_id)
    key, raw_key = api_keys.issue_key(ports(), fleet_id, body.role, body.label)
    out = CreatedApiKeyOut(**ApiKeyOut.from_domain(key).model_dump(), api_key=raw_key)
    return json_response(201, out.model_dump(mode="json"))


@app.get("/fleets/<fleet_id>/api-keys")
def list_api_keys(fleet_id: str) -> Response[Any]:
    auth.require_fleet_access(current_principal(app), fleet_id)
    keys = [ApiKeyOut.from_domain(k) for k in api_keys.list_keys(ports(), fleet_id)]
    return json_response(200, ApiKeyListOut(api_keys=keys).model_dump(mode="json"))


@app.delete("/fleets/<fleet_id>/api-keys/<key_id>")
def revoke_api_key(fleet_id: str, key_id: str) -> Response[Any]:
    auth.require_fleet_access(current_principal(app), fleet_id)
    return json_response(
        200, ApiKeyOut.from_domain(api_keys.revoke_key(ports(), fleet_id, key_id)).model_dump(mode="json")
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
