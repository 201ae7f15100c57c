"""POST /rides with an Idempotency-Key: a retried request returns the same ride and starts one matching."""

from typing import Any

from tests.integration.helpers import Customer, Fleet, Stack, unique_phone


def _fleet_rides(stack: Stack, fleet: Fleet) -> list[dict[str, Any]]:
    answer = stack.http.get(f"{stack.base_url}/rides", headers=fleet.headers)
    assert answer.status_code == 200, answer.text
    rides: list[dict[str, Any]] = answer.json()["rides"]
    return rides


def _executions_of(stack: Stack, ride_ids: set[str]) -> list[str]:
    names: list[str] = []
    paginator = stack.sfn.get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=stack.state_machine_arn):
        names.extend(e["name"] for e in page["executions"] if e["name"] in ride_ids)
    return names


def test_same_key_twice_is_one_ride_and_one_execution(stack: Stack) -> None:
    # Given a fleet with one driver and a ride request sent with an Idempotency-Key
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=2)
    driver = stack.add_driver(fleet)
    customer = Customer("Ida Idem", unique_phone("+1888"))
    first = stack.create_ride(fleet, customer, idempotency_key="order-4711")
    assert first.status_code == 201, first.text

    # When the client retries the same request with the same key
    retry = stack.create_ride(fleet, customer, idempotency_key="order-4711")

    # Then it gets the same ride back, and the fleet has that one ride with one execution
    assert retry.status_code == 201, retry.text
    assert retry.json()["ride_id"] == first.json()["ride_id"]
    assert retry.json()["code"] == first.json()["code"]
    ride_ids = {r["ride_id"] for r in _fleet_rides(stack, fleet)}
    assert ride_ids == {first.json()["ride_id"]}
    assert _executions_of(stack, ride_ids) == [first.json()["ride_id"]]
    # ... and the driver is offered the ride once
    stack.offer_link(driver, first.json())
    assert stack.wait_for_execution(first.json()["ride_id"])["status"] == "SUCCEEDED"
    assert len(stack.messages_to(driver["phone"], f"New ride {first.json()['code']}")) == 1


def test_same_key_with_another_body_is_refused(stack: Stack) -> None:
    # Given a ride created with an Idempotency-Key
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=2)
    stack.add_driver(fleet)
    customer = Customer("Ike Idem", unique_phone("+1888"))
    first = stack.create_ride(fleet, customer, idempotency_key="order-4712")
    assert first.status_code == 201, first.text

    # When the same key comes with a different request
    other = stack.create_ride(fleet, customer, idempotency_key="order-4712", notes="a different ride")

    # Then it is refused with 422 naming the header, and no second ride exists
    assert other.status_code == 422, other.text
    assert "Idempotency-Key" in other.text
    assert [r["ride_id"] for r in _fleet_rides(stack, fleet)] == [first.json()["ride_id"]]


def test_different_keys_are_different_rides(stack: Stack) -> None:
    # Given a fleet with one driver
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=2)
    stack.add_driver(fleet)
    customer = Customer("Ola Other", unique_phone("+1888"))

    # When the same request is sent under two different keys
    one = stack.create_ride(fleet, customer, idempotency_key="order-a")
    two = stack.create_ride(fleet, customer, idempotency_key="order-b")

    # Then they are two rides, each with its own execution
    assert (one.status_code, two.status_code) == (201, 201)
    ride_ids = {one.json()["ride_id"], two.json()["ride_id"]}
    assert len(ride_ids) == 2
    assert {r["ride_id"] for r in _fleet_rides(stack, fleet)} == ride_ids
    assert sorted(_executions_of(stack, ride_ids)) == sorted(ride_ids)
