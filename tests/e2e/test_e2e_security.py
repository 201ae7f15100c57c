"""Issue 10 over HTTP: revocation that takes effect within SPEC §11's 5 s, a fleet that keeps an admin key."""

import time

from tests.e2e.stack import StackClient

REVOCATION_DEADLINE_SECONDS = 5


def test_a_revoked_admin_key_stops_working_within_five_seconds_even_on_key_management(stack: StackClient) -> None:
    # Given a fleet with a second admin key that has just been used (so its authorization is cached)
    fleet = stack.create_fleet()
    issued = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "admin"}, headers=fleet.auth)
    assert issued.status_code == 201, issued.text
    second = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    assert stack.get(f"/fleets/{fleet.fleet_id}/api-keys", headers=second).status_code == 200
    # When the first admin revokes it
    revoked = stack.request(
        "DELETE", f"/fleets/{fleet.fleet_id}/api-keys/{issued.json()['key_id']}", headers=fleet.auth
    )
    assert revoked.status_code == 200, revoked.text
    # Then within 5 s it can no longer issue keys (nor do anything else)
    time.sleep(REVOCATION_DEADLINE_SECONDS)
    attempt = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "admin"}, headers=second)
    assert attempt.status_code == 401, attempt.text


def test_the_last_admin_key_cannot_be_revoked(stack: StackClient) -> None:
    # Given a fleet with its one admin key
    fleet = stack.create_fleet()
    (key,) = stack.get(f"/fleets/{fleet.fleet_id}/api-keys", headers=fleet.auth).json()["api_keys"]
    # When the admin revokes it, Then 409 and the key still works
    answer = stack.request("DELETE", f"/fleets/{fleet.fleet_id}/api-keys/{key['key_id']}", headers=fleet.auth)
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "last_admin_key"
    assert stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).status_code == 200
