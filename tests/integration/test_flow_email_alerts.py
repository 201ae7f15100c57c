"""Admin alerts by e-mail on the real ASL (SPEC §10): the timed-out alert reaches an admin's e-mail address
through SES (moto) as well as their phone, and with SES down the flow still ends and the SMS alert still goes."""

import requests

from tests.integration.helpers import Stack, unique_phone, wait_until


def test_a_timed_out_ride_alerts_the_admin_by_email_and_an_ses_outage_changes_nothing_else(stack: Stack) -> None:
    # Given a fleet whose admin has a phone and an e-mail address, and one driver who never answers
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=2)
    email = f"ops{unique_phone()[1:]}@example.com"
    admins = [{"name": "Olu Admin", "phone": fleet.admin_phone, "email": email}]
    patched = requests.patch(
        f"{stack.base_url}/fleets/{fleet.fleet_id}", headers=fleet.headers, json={"admin_contacts": admins}, timeout=10
    )
    assert patched.status_code == 200, patched.text
    stack.add_driver(fleet)
    # When a ride times out while SES is down
    stack.runtime.set_provider_down("email", True)
    try:
        first = stack.start_ride(fleet)
        assert stack.wait_for_execution(first["ride_id"])["status"] == "SUCCEEDED"
        # Then the ride ended as a timeout, the admin got the SMS alert and no e-mail
        assert stack.get_ride(fleet, first["ride_id"])["status"] == "timed_out"
        assert stack.messages_to(fleet.admin_phone, first["code"])
        assert stack.runtime.messages_to(email) == []
    finally:
        stack.runtime.set_provider_down("email", False)
    # When the next ride times out with SES back, Then the alert arrives by e-mail too
    second = stack.start_ride(fleet)
    assert stack.wait_for_execution(second["ride_id"])["status"] == "SUCCEEDED"
    [mail] = wait_until(
        lambda: [m for m in stack.runtime.messages_to(email) if "timed out" in m["body"]], what="the e-mail alert"
    )
    assert (mail["channel"], mail["from"]) == ("email", "rides@ridecast.local")
    assert second["code"] in mail["subject"]
    assert second["code"] in mail["body"]
