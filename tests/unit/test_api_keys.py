"""A fleet's API keys: issued once, stored as hashes, scoped to a role, revocable (SPEC §3 roles)."""

from typing import Any

import pytest

from ridecast.domain.fleets import auth
from ridecast.ids import hash_api_key
from ridecast.wiring import ports
from tests.fixtures import invoke, json_body, load_event, with_body, with_path, with_principal
from tests.unit.conftest import AwsStack, fleet_principal

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _issue(fleet_id: str, principal: dict[str, str], role: str = "dispatcher") -> dict[str, Any]:
    event = with_body(
        with_path(load_event("fleets/issue_api_key.json"), fleet_id=fleet_id), {"role": role, "label": "Front desk"}
    )
    return invoke("fleets", with_principal(event, principal))


def test_an_admin_issues_a_dispatcher_key_that_authenticates_as_dispatcher(aws: AwsStack, fleet: Any) -> None:
    # Given the fleet's admin
    admin = fleet_principal(fleet.fleet_id, "admin")
    # When they issue a dispatcher key
    response = _issue(fleet.fleet_id, admin)
    # Then the key is shown once and resolves to a dispatcher of that fleet
    assert response["statusCode"] == 201, response["body"]
    created = json_body(response)
    principal = auth.authenticate(ports(), f"Bearer {created['api_key']}")
    assert principal is not None
    assert (principal.fleet_id, principal.role, principal.key_id) == (fleet.fleet_id, "dispatcher", created["key_id"])
    # And only its hash is in the table
    assert aws.raw_item(f"APIKEY#{hash_api_key(created['api_key'])}", "META") is not None
    assert created["api_key"] not in str(aws.raw_item(f"FLEET#{fleet.fleet_id}", f"APIKEY#{created['key_id']}"))


def test_a_dispatcher_cannot_issue_keys_and_another_fleet_is_not_found(fleet: Any) -> None:
    # Given a dispatcher of the fleet, and an admin of another fleet
    dispatcher = fleet_principal(fleet.fleet_id, "dispatcher")
    stranger = fleet_principal("f-someone-else", "admin")
    # When either asks for a key of this fleet
    # Then the dispatcher is refused (403) and the stranger does not even see the fleet (404)
    assert _issue(fleet.fleet_id, dispatcher)["statusCode"] == 403
    assert _issue(fleet.fleet_id, stranger)["statusCode"] == 404


def test_a_revoked_key_no_longer_authenticates_and_is_listed_as_revoked(fleet: Any) -> None:
    # Given an issued key
    admin = fleet_principal(fleet.fleet_id, "admin")
    created = json_body(_issue(fleet.fleet_id, admin))
    # When the admin revokes it
    revoke = with_path(load_event("fleets/revoke_api_key.json"), fleet_id=fleet.fleet_id, key_id=created["key_id"])
    response = invoke("fleets", with_principal(revoke, admin))
    # Then it answers the revoked key, and the key is nobody from now on
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["revoked_at"]
    assert auth.authenticate(ports(), f"Bearer {created['api_key']}") is None
    listing = invoke(
        "fleets", with_principal(with_path(load_event("fleets/list_api_keys.json"), fleet_id=fleet.fleet_id), admin)
    )
    keys = {k["key_id"]: k for k in json_body(listing)["api_keys"]}
    assert keys[created["key_id"]]["revoked_at"] is not None
    assert "api_key" not in keys[created["key_id"]]


def test_revoking_an_unknown_key_is_404(fleet: Any) -> None:
    admin = fleet_principal(fleet.fleet_id, "admin")
    revoke = with_path(load_event("fleets/revoke_api_key.json"), fleet_id=fleet.fleet_id, key_id="k-nope")
    assert invoke("fleets", with_principal(revoke, admin))["statusCode"] == 404


def test_a_revoked_admin_key_cannot_manage_keys_even_while_its_authorization_is_cached(fleet: Any) -> None:
    # Given a second admin key, revoked, whose authorizer answer API Gateway still holds for a few seconds
    first_admin = fleet_principal(fleet.fleet_id, "admin")
    second = json_body(_issue(fleet.fleet_id, first_admin, role="admin"))
    revoke = with_path(load_event("fleets/revoke_api_key.json"), fleet_id=fleet.fleet_id, key_id=second["key_id"])
    assert invoke("fleets", with_principal(revoke, first_admin))["statusCode"] == 200
    cached = fleet_principal(fleet.fleet_id, "admin", key_id=second["key_id"])
    # When it asks for a new admin key, or to revoke the first admin's, Then 401: key management checks the key
    assert _issue(fleet.fleet_id, cached, role="admin")["statusCode"] == 401
    listing = with_path(load_event("fleets/list_api_keys.json"), fleet_id=fleet.fleet_id)
    assert invoke("fleets", with_principal(listing, cached))["statusCode"] == 401
