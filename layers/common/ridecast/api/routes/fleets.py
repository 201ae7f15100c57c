"""POST /fleets (root); a fleet's settings and API keys (root, or that fleet's admin)."""

from aws_lambda_powertools.event_handler import Request

from ridecast.api.callers import (
    FLEET_STAFF,
    ROOT,
    ROOT_OR_THAT_FLEETS_ADMIN,
    caller_fleet,
    caller_role,
    request_principal,
)
from ridecast.api.models.fleets import (
    ApiKeyListOut,
    ApiKeyOut,
    CreateApiKeyRequest,
    CreatedApiKeyOut,
    CreatedFleetOut,
    CreateFleetRequest,
    FleetOut,
    MeOut,
    UpdatedFleetOut,
    UpdateFleetRequest,
)
from ridecast.api.routing import Routes
from ridecast.domain.fleets import accounts, api_keys
from ridecast.domain.fleets.commands import FleetChanges, NewFleet
from ridecast.wiring import ports

routes = Routes(tag="fleets")


@routes.post("/fleets", callers=ROOT, status_code=201, errors=(409,))
def create_fleet(body: CreateFleetRequest) -> CreatedFleetOut:
    """Create a fleet; its admin key is shown once."""
    fleet, api_key, webhook_secret = accounts.create_fleet(ports(), NewFleet(**body.model_dump()))
    return CreatedFleetOut.from_domain(fleet, api_key=api_key, webhook_secret=webhook_secret)


@routes.get("/fleets/<fleet_id>", callers=ROOT_OR_THAT_FLEETS_ADMIN, errors=(404,))
def get_fleet(fleet_id: str) -> FleetOut:
    """A fleet's settings, secrets masked."""
    return FleetOut.from_domain(accounts.get_fleet(ports(), fleet_id))


@routes.get("/me", callers=FLEET_STAFF)
def who_am_i(request: Request) -> MeOut:
    """The calling key's fleet, role and language."""
    return MeOut.from_domain(accounts.get_fleet(ports(), caller_fleet(request)), caller_role(request))


@routes.patch("/fleets/<fleet_id>", callers=ROOT_OR_THAT_FLEETS_ADMIN, errors=(404, 409))
def update_fleet(fleet_id: str, body: UpdateFleetRequest) -> UpdatedFleetOut:
    """Change a fleet's settings, channels or webhook (a new signing secret is shown once)."""
    fleet, webhook_secret = accounts.update_fleet(
        ports(), fleet_id, FleetChanges(**body.model_dump(exclude_unset=True))
    )
    return UpdatedFleetOut.from_domain(fleet, webhook_secret=webhook_secret)


@routes.post("/fleets/<fleet_id>/api-keys", callers=ROOT_OR_THAT_FLEETS_ADMIN, status_code=201, errors=(404,))
def issue_api_key(fleet_id: str, body: CreateApiKeyRequest, request: Request) -> CreatedApiKeyOut:
    """Issue an admin or dispatcher key; shown once."""
    api_keys.refuse_revoked_caller(ports(), request_principal(request))
    key, raw_key = api_keys.issue_key(ports(), fleet_id, body.role, body.label)
    return CreatedApiKeyOut.from_domain(key, api_key=raw_key)


@routes.get("/fleets/<fleet_id>/api-keys", callers=ROOT_OR_THAT_FLEETS_ADMIN, errors=(404,))
def list_api_keys(fleet_id: str, request: Request) -> ApiKeyListOut:
    """The fleet's keys (never the keys themselves)."""
    api_keys.refuse_revoked_caller(ports(), request_principal(request))
    return ApiKeyListOut(api_keys=[ApiKeyOut.from_domain(k) for k in api_keys.list_keys(ports(), fleet_id)])


@routes.delete("/fleets/<fleet_id>/api-keys/<key_id>", callers=ROOT_OR_THAT_FLEETS_ADMIN, errors=(404, 409))
def revoke_api_key(fleet_id: str, key_id: str, request: Request) -> ApiKeyOut:
    """Revoke a key; a fleet keeps at least one admin key."""
    api_keys.refuse_revoked_caller(ports(), request_principal(request))
    return ApiKeyOut.from_domain(api_keys.revoke_key(ports(), fleet_id, key_id))
