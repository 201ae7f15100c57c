"""Who may call a route (SPEC §3): decided once per request, from the authorizer's context, before the
request body is read or validated, so a stranger gets 401 and a wrong role 403, never a description of our
schema."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Request

from ridecast.domain.entities import ApiPrincipal
from ridecast.domain.fleets import auth
from ridecast.domain.types import Role
from ridecast.errors import Unauthenticated


def principal_of(authorizer_context: Mapping[str, Any] | None) -> ApiPrincipal | None:
    """The authorizer resolved the key; an unknown or missing key reaches us as `anonymous` (None here)."""
    context = authorizer_context or {}
    kind = context.get("principal")
    if kind == "root":
        return ApiPrincipal(kind="root")
    if kind == "fleet" and context.get("fleet_id") and context.get("role") in ("admin", "dispatcher"):
        return ApiPrincipal(
            kind="fleet", fleet_id=context["fleet_id"], role=context["role"], key_id=context.get("key_id") or None
        )
    return None


def request_principal(request: Request) -> ApiPrincipal | None:
    authorizer = (request.resolved_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    return principal_of(authorizer.get("lambda"))


@dataclass(frozen=True)
class Callers:
    """Who may call a route: `check` raises the domain's Unauthenticated / ForbiddenForRole / NotFound."""

    description: str
    check: Callable[[ApiPrincipal | None, Mapping[str, str]], object] | None = None

    @property
    def need_a_key(self) -> bool:
        return self.check is not None

    def refuse_or_pass(self, request: Request) -> None:
        if self.check is not None:
            self.check(request_principal(request), request.path_parameters)


ANYONE = Callers("anyone")
# Webhooks prove who they are by signature (over the form, so the form is read first) or secret token (checked
# before the update is read): in the route, with what the domain knows of the fleet.
PROVIDER = Callers("the provider, proven by its signature or secret")
# The token in the path is the driver's key.
DRIVER_WITH_TOKEN = Callers("the driver holding the offer token")
ROOT = Callers("the platform root key", lambda principal, _: auth.require_root(principal))
FLEET_ADMIN = Callers("a fleet admin key", lambda principal, _: auth.require_fleet_role(principal, "admin"))
FLEET_STAFF = Callers(
    "a fleet admin or dispatcher key",
    lambda principal, _: auth.require_fleet_role(principal, "admin", "dispatcher"),
)
ROOT_OR_THAT_FLEETS_ADMIN = Callers(
    "the root key, or an admin key of the fleet in the path (another fleet's id is 404)",
    lambda principal, path: auth.require_fleet_access(principal, path.get("fleet_id", "")),
)


def caller_fleet(request: Request) -> str:
    """The fleet of the calling key; the route's Callers have already let only fleet keys through."""
    return auth.require_fleet_role(request_principal(request), "admin", "dispatcher")


def caller_role(request: Request) -> Role:
    """The role of the calling fleet key; the route's Callers have already let only fleet keys through."""
    principal = request_principal(request)
    if principal is None or principal.role is None:
        raise Unauthenticated("an API key of a fleet is required")
    return principal.role


def caller_key_id(request: Request) -> str | None:
    principal = request_principal(request)
    return principal.key_id if principal else None
