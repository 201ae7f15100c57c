"""A fleet's API keys: issue (shown once), list, revoke."""

from ridecast.adapters import dynamodb
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import ApiKey
from ridecast.domain.fleets import get_fleet
from ridecast.domain.types import Role
from ridecast.errors import NotFound
from ridecast.ids import hash_api_key, new_api_key, new_id


def issue_key(fleet_id: str, role: Role, label: str | None) -> tuple[ApiKey, str]:
    get_fleet(fleet_id)
    raw_key = new_api_key()
    key = ApiKey(key_id=new_id("k"), fleet_id=fleet_id, role=role, label=label, created_at=utcnow())
    dynamodb.put_api_key(key, hash_api_key(raw_key))
    return key, raw_key


def list_keys(fleet_id: str) -> list[ApiKey]:
    get_fleet(fleet_id)
    return sorted(dynamodb.list_api_keys(fleet_id), key=lambda k: k.created_at)


def revoke_key(fleet_id: str, key_id: str) -> ApiKey:
    """Revoked at once in the table; API Gateway may serve its cached authorization for up to 5 minutes."""
    revoked = dynamodb.revoke_api_key(fleet_id, key_id, utcnow())
    if revoked is None:
        raise NotFound(f"api key {key_id} not found")
    return revoked
