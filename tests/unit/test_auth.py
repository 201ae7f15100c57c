"""Who is calling (ridecast.domain.auth, functions/authorizer) and what they may touch (SPEC §3)."""

from collections.abc import Callable
from typing import Any

import pytest

from ridecast.adapters import dynamodb
from ridecast.domain import auth, fleets
from ridecast.errors import FleetNotFound, ForbiddenForRole, Unauthenticated
from ridecast.ids import hash_api_key, utcnow
from ridecast.models.api import CreateFleetRequest
from ridecast.models.domain import ApiKey, ApiPrincipal
from tests.fixtures import invoke, load_event
from tests.unit.conftest import AwsStack

ADMIN_F1 = ApiPrincipal(kind="fleet", fleet_id="f1", role="admin", key_id="k1")
DISPATCHER_F1 = ApiPrincipal(kind="fleet", fleet_id="f1", role="dispatcher", key_id="k2")
ADMIN_F2 = ApiPrincipal(kind="fleet", fleet_id="f2", role="admin", key_id="k3")


# ----- authenticate: the key behind `Authorization: Bearer <key>` ------------------------------------


def test_the_root_key_from_secrets_manager_is_the_platform_root(aws: AwsStack) -> None:
    # Given the root key stored in the stack's secret, When it is presented, Then the caller is root
    assert auth.authenticate(f"Bearer {aws.root_key}") == auth.ROOT
    assert auth.authenticate(f"bearer   {aws.root_key}  ") == auth.ROOT


def test_a_fleet_key_is_found_by_its_hash(aws: AwsStack, make_fleet: Callable[..., tuple[Any, str]]) -> None:
    # Given a fleet created with its admin key
    fleet, key = make_fleet()
    # When the key is presented
    principal = auth.authenticate(f"Bearer {key}")
    # Then it resolves to that fleet's admin
    assert principal is not None
    assert (principal.kind, principal.fleet_id, principal.role) == ("fleet", fleet.fleet_id, "admin")
    assert principal.key_id
    # And the table holds the key's hash, never the key
    item = aws.raw_item(f"APIKEY#{hash_api_key(key)}", "META")
    assert item is not None
    assert key not in str(item)


def test_a_dispatcher_key_resolves_to_its_role(aws: AwsStack) -> None:
    dynamodb.put_api_key(
        ApiKey(key_id="k9", fleet_id="f1", role="dispatcher", created_at=utcnow()), hash_api_key("rc_dispatcher_key")
    )
    principal = auth.authenticate("Bearer rc_dispatcher_key")
    assert principal == ApiPrincipal(kind="fleet", fleet_id="f1", role="dispatcher", key_id="k9")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "rc_some_key",  # no scheme
        "Bearer rc_unknown_key",
        "Bearer " + "x" * 257,  # longer than any key we issue: not even looked up
    ],
)
def test_missing_or_unknown_keys_are_nobody(aws: AwsStack, header: str | None) -> None:
    assert auth.authenticate(header) is None


def test_a_revoked_key_is_nobody(aws: AwsStack) -> None:
    dynamodb.put_api_key(
        ApiKey(key_id="k1", fleet_id="f1", role="admin", created_at=utcnow()), hash_api_key("rc_old_key")
    )
    aws.dynamodb.update_item(
        TableName=aws.table_name,
        Key={"PK": {"S": f"APIKEY#{hash_api_key('rc_old_key')}"}, "SK": {"S": "META"}},
        UpdateExpression="SET revoked_at = :t",
        ExpressionAttributeValues={":t": {"S": utcnow().isoformat()}},
    )
    assert auth.authenticate("Bearer rc_old_key") is None


def test_the_root_key_is_not_a_prefix_match(aws: AwsStack) -> None:
    assert auth.authenticate(f"Bearer {aws.root_key[:-1]}") is None
    assert auth.authenticate(f"Bearer {aws.root_key}x") is None


# ----- require_*: 401, 403 and 404 as SPEC §3 says -------------------------------------------------------


def test_no_principal_is_401_everywhere() -> None:
    for check in (
        lambda: auth.require_authenticated(None),
        lambda: auth.require_root(None),
        lambda: auth.require_fleet_role(None, "admin", "dispatcher"),
        lambda: auth.require_fleet_access(None, "f1"),
    ):
        with pytest.raises(Unauthenticated) as raised:
            check()
        assert raised.value.status_code == 401


def test_only_root_creates_fleets() -> None:
    assert auth.require_root(auth.ROOT) == auth.ROOT
    with pytest.raises(ForbiddenForRole) as raised:
        auth.require_root(ADMIN_F1)
    assert raised.value.status_code == 403


def test_fleet_routes_need_a_fleet_key_with_the_role() -> None:
    # Given an admin-only route and an admin-or-dispatcher route
    assert auth.require_fleet_role(ADMIN_F1, "admin") == "f1"
    assert auth.require_fleet_role(DISPATCHER_F1, "admin", "dispatcher") == "f1"
    # When a dispatcher calls the admin-only route, Then 403
    with pytest.raises(ForbiddenForRole) as raised:
        auth.require_fleet_role(DISPATCHER_F1, "admin")
    assert raised.value.status_code == 403
    # And the root key, which belongs to no fleet, cannot act as a fleet either
    with pytest.raises(ForbiddenForRole):
        auth.require_fleet_role(auth.ROOT, "admin", "dispatcher")


def test_fleet_access_is_root_or_that_fleets_admin() -> None:
    auth.require_fleet_access(auth.ROOT, "f1")
    auth.require_fleet_access(ADMIN_F1, "f1")
    # Another fleet's id is simply not found: its existence is not revealed
    with pytest.raises(FleetNotFound) as raised:
        auth.require_fleet_access(ADMIN_F2, "f1")
    assert raised.value.status_code == 404
    # The fleet's own dispatcher may not manage the fleet
    with pytest.raises(ForbiddenForRole):
        auth.require_fleet_access(DISPATCHER_F1, "f1")


# ----- the Lambda authorizer, fed the REQUEST event API Gateway sends --------------------------------------


def test_authorizer_resolves_a_fleet_key_into_the_route_context(aws: AwsStack) -> None:
    # Given a fleet whose admin key is the one in events/authorizer/request.json
    fleet, _ = fleets.create_fleet(CreateFleetRequest(name="Demo Cabs"))
    key = ApiKey(key_id="k-demo", fleet_id=fleet.fleet_id, role="admin", created_at=utcnow())
    dynamodb.put_api_key(key, hash_api_key("demo-admin-key"))
    # When API Gateway asks the authorizer
    answer = invoke("authorizer", load_event("authorizer/request.json"))
    # Then the request goes on with the fleet and role the routes read
    assert answer["isAuthorized"] is True
    assert answer["context"]["principal"] == "fleet"
    assert answer["context"]["fleet_id"] == fleet.fleet_id
    assert answer["context"]["role"] == "admin"
    assert answer["context"]["key_id"]


def test_authorizer_passes_unknown_keys_on_as_anonymous_so_routes_answer_401(aws: AwsStack) -> None:
    # HTTP API authorizers can only deny with 403; SPEC §3 wants 401 for a missing or unknown key
    answer = invoke("authorizer", load_event("authorizer/request.json"))
    assert answer == {"isAuthorized": True, "context": {"principal": "anonymous"}}


def test_authorizer_knows_the_root_key(aws: AwsStack) -> None:
    event = load_event("authorizer/request.json")
    event["headers"]["authorization"] = f"Bearer {aws.root_key}"
    answer = invoke("authorizer", event)
    assert answer["context"]["principal"] == "root"
