"""A fleet's API keys: issue (shown once), list, revoke."""

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import ApiKey, ApiPrincipal
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.domain.types import Role
from ridecast.errors import NotFound, Unauthenticated
from ridecast.ids import hash_api_key, new_api_key, new_id


def refuse_revoked_caller(ports: Ports, caller: ApiPrincipal | None) -> None:
    """Key management reads the caller's key afresh: API Gateway may still serve a revoked key's cached
    authorization for a few seconds, and a key issued in them would outlive the revocation (one read, on
    these rare routes only)."""
    if caller is None or caller.kind != "fleet" or not caller.fleet_id or not caller.key_id:
        return
    if ports.stores.api_keys.is_revoked(caller.fleet_id, caller.key_id):
        raise Unauthenticated("this API key was revoked")


def issue_key(ports: Ports, fleet_id: str, role: Role, label: str | None) -> tuple[ApiKey, str]:
    get_fleet(ports, fleet_id)
    raw_key = new_api_key()
    key = ApiKey(key_id=new_id("k"), fleet_id=fleet_id, role=role, label=label, created_at=utcnow())
    ports.stores.api_keys.add(key, hash_api_key(raw_key))
    return key, raw_key


def list_keys(ports: Ports, fleet_id: str) -> list[ApiKey]:
    get_fleet(ports, fleet_id)
    return sorted(ports.stores.api_keys.for_fleet(fleet_id), key=lambda k: k.created_at)


def revoke_key(ports: Ports, fleet_id: str, key_id: str) -> ApiKey:
    """Revoked at once in the table; API Gateway serves its cached authorization for at most 3 s more
    (template.yaml ReauthorizeEvery). Raises LastAdminKey rather than leave the fleet without an admin key."""
    revoked = ports.stores.api_keys.revoke(fleet_id, key_id, utcnow())
    if revoked is None:
        raise NotFound(f"api key {key_id} not found")
    return revoked
