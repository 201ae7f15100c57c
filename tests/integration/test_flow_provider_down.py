"""SPEC §5 on the real ASL: with Twilio down every offer fails, the flow still ends as it should (no ride left
searching), Twilio goes offline after three failures and the scheduled probe brings it back once it answers."""

import requests

from tests.integration.helpers import Stack, wait_until


def _twilio(stack: Stack, headers: dict[str, str]) -> dict[str, object]:
    answer = requests.get(f"{stack.base_url}/dispatch/status", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    twilio: dict[str, object] = answer.json()["channels"]["twilio"]
    return twilio


def test_with_twilio_down_the_flow_ends_twilio_goes_offline_and_the_probe_brings_it_back(stack: Stack) -> None:
    # Given a fleet on SMS with three drivers, and Twilio down
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=2)
    drivers = [stack.add_driver(fleet) for _ in range(3)]
    stack.runtime.set_provider_down("twilio", True)
    try:
        # When a ride is matched
        ride = stack.start_ride(fleet)
        execution = stack.wait_for_execution(ride["ride_id"])
        # Then the execution still ends as a timeout, every offer failed
        assert execution["status"] == "SUCCEEDED"
        settled = stack.get_ride(fleet, ride["ride_id"])
        assert settled["status"] == "timed_out"
        assert {o["status"] for o in settled["offers"]} == {"failed"}
        assert len(settled["offers"]) == len(drivers)
        # And Twilio is offline, its failures counted
        twilio = _twilio(stack, fleet.headers)
        assert twilio["status"] == "offline"
        assert int(str(twilio["failures"])) >= 3
        # And while it stays down the probe leaves it offline
        stack.runtime.trigger_schedule("ChannelProbeFunction.EveryMinute")
        assert _twilio(stack, fleet.headers)["status"] == "offline"
    finally:
        stack.runtime.set_provider_down("twilio", False)
    # When Twilio answers again, the next probe brings it back online
    stack.runtime.trigger_schedule("ChannelProbeFunction.EveryMinute")
    wait_until(lambda: _twilio(stack, fleet.headers)["status"] == "online", what="twilio back online")
