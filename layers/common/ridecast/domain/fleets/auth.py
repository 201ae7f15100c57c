"""API keys: who is calling, and what they may touch."""

from ridecast.domain.entities import ApiPrincipal
from ridecast.domain.ports import Ports
from ridecast.domain.types import Role
from ridecast.errors import FleetNotFound, ForbiddenForRole, Unauthenticated
from ridecast.ids import hash_api_key, same_secret

# Constructed, not validated, as a literal that is valid: validating would build ApiPrincipal's validator, and
# with the first one pydantic's plugin lookup, at import (SPEC §7); callers that need it build it on first use.
ROOT = ApiPrincipal.model_construct(kind="root")


def authenticate(ports: Ports, authorization_header: str | None) -> ApiPrincipal | None:
    """The principal behind `Authorization: Bearer <key>`, or None for a missing or unknown key."""
    if not authorization_header:
        return None
    scheme, _, raw_key = authorization_header.strip().partition(" ")
    raw_key = raw_key.strip()
    if scheme.lower() != "bearer" or not raw_key or len(raw_key) > 256:
        return None
    root_key = ports.secrets.root_key()
    if root_key and same_secret(root_key, raw_key):
        return ROOT
    return ports.stores.api_keys.principal_for(hash_api_key(raw_key))


def require_root(principal: ApiPrincipal | None) -> ApiPrincipal:
    principal = require_authenticated(principal)
    if principal.kind != "root":
        raise ForbiddenForRole("only the platform root key may do this")
    return principal


def require_authenticated(principal: ApiPrincipal | None) -> ApiPrincipal:
    if principal is None:
        raise Unauthenticated("missing or unknown API key: send 'Authorization: Bearer <key>'")
    return principal


def require_fleet_role(principal: ApiPrincipal | None, *roles: Role) -> str:
    """The caller's fleet id, if its key has one of `roles`."""
    principal = require_authenticated(principal)
    if principal.kind != "fleet" or principal.fleet_id is None:
        raise ForbiddenForRole("this route needs a fleet API key")
    if principal.role not in roles:
        raise ForbiddenForRole(f"this route needs the role {' or '.join(roles)}; your key is {principal.role}")
    return principal.fleet_id


def require_fleet_access(principal: ApiPrincipal | None, fleet_id: str) -> None:
    """Root, or the admin of that very fleet; another fleet's id is simply not found."""
    principal = require_authenticated(principal)
    if principal.kind == "root":
        return
    if principal.fleet_id != fleet_id:
        raise FleetNotFound(f"fleet {fleet_id} not found")
    if principal.role != "admin":
        raise ForbiddenForRole("only the fleet's admin may do this")
