"""The live console (SPEC §9) in headless Chromium against the local stack, whose demo drivers answer offers
by themselves: what an operator sees and does, as they would do it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import ConsoleErrors, create_ride, created_code, sign_in
from tests.e2e.stack import REPO_ROOT, StackClient

SCREENSHOT = REPO_ROOT / "docs" / "console.png"


def test_an_operator_watches_the_simulated_drivers_take_a_ride(page: Page, console_errors: ConsoleErrors) -> None:
    # Given the console signed in with the demo fleet's admin key
    sign_in(page)
    expect(page.locator("#fleet-name")).to_have_text("Demo Cabs")
    # When the operator creates a ride from the Now panel
    create_ride(page)
    code = created_code(page)
    # Then its card shows the offers going out, and the ride becoming assigned by a simulated driver
    card = page.locator(f'.matching[data-code="{code}"]')
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-status", "assigned")
    expect(card.locator('.offers li[data-status="accepted"]')).to_have_count(1)
    expect(card.locator(".winner")).to_contain_text("Demo Driver")
    # And every other driver's offer changes as they answer or are told it is taken: none is left sent
    expect(card.locator('.offers li[data-status="sent"]')).to_have_count(0)
    # And the key is in the tab's sessionStorage, nowhere else
    assert page.evaluate("sessionStorage.getItem('ridecast.console.key')") == "demo-admin-key"
    assert page.evaluate("localStorage.length + document.cookie.length") == 0
    assert "demo-admin-key" not in page.url
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert console_errors == []


def test_a_wrong_key_is_refused_with_a_clear_message(page: Page) -> None:
    # When someone signs in with a key that is not one
    sign_in(page, key="not-a-real-key")
    # Then they are told, the console stays closed and nothing is kept
    expect(page.get_by_role("alert").filter(has_text="refused")).to_have_text(
        "This key was refused: check it and try again."
    )
    expect(page.locator("#console")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_apis_422_is_shown_beside_the_field_it_names(page: Page) -> None:
    # Given a signed-in console, When a ride is sent with a phone number that is not E.164
    sign_in(page)
    create_ride(page, phone="12345")
    # Then the API's message names the field, and the field is marked invalid
    expect(page.locator("#ride-form-error")).to_contain_text("customer.phone")
    expect(page.get_by_label("Customer phone")).to_have_attribute("aria-invalid", "true")


def test_every_panel_renders_under_the_content_security_policy(page: Page, console_errors: ConsoleErrors) -> None:
    sign_in(page)
    # Rides: the recent rides, and one opened shows its offers' timeline
    page.get_by_role("tab", name="Rides").click()
    page.locator("#rides-table tbody tr").first.wait_for()
    page.locator("#rides-table tbody button").first.click()
    expect(page.locator("#ride-detail h3")).to_be_visible()
    # Drivers: the demo fleet's five, and one's Telegram link with its QR code
    page.get_by_role("tab", name="Drivers").click()
    expect(page.locator("#drivers-table tbody tr")).to_have_count(5)
    page.get_by_role("button", name="Telegram link: Demo Driver 3").click()
    expect(page.locator("#telegram-link a")).to_have_attribute("href", re.compile(r"^https://t\.me/"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    # Channels: Telegram and Twilio with their health
    page.get_by_role("tab", name="Channels").click()
    expect(page.locator("#channel-cards .channel")).to_have_count(2)
    # Stats: the figures and both charts (as SVG, or a no-data note)
    page.get_by_role("tab", name="Stats").click()
    expect(page.locator("#stats-figures dd").first).to_be_visible()
    expect(page.locator("#ttm-chart svg, #ttm-chart .empty")).to_have_count(1)
    expect(page.locator("#acceptance-chart svg, #acceptance-chart .empty")).to_have_count(1)
    # And nothing was refused or failed on the way (a CSP refusal is a console error)
    assert console_errors == []


def test_the_router_mode_is_switched_from_the_channels_panel(page: Page, demo: StackClient) -> None:
    sign_in(page)
    page.get_by_role("tab", name="Channels").click()
    admin = {"Authorization": "Bearer demo-admin-key"}
    try:
        # When the operator picks "Twilio only"
        page.get_by_label("Router mode").select_option("twilio-only")
        # Then the console says so, and the fleet's router is in that mode
        expect(page.locator("#notice")).to_have_text("Router mode: Twilio only (SMS, WhatsApp).")
        assert demo.get("/dispatch/status", headers=admin).json()["mode"] == "twilio-only"
    finally:
        demo.post("/dispatch/mode", headers=admin, json={"mode": "auto"})


def test_the_console_reads_right_to_left_in_hebrew(page: Page) -> None:
    sign_in(page)
    # When the operator picks Hebrew
    page.get_by_label("Language").select_option("he")
    # Then the page is Hebrew, right to left, its tabs named in Hebrew
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "he")
    expect(page.get_by_role("tab", name="עכשיו")).to_be_visible()
    # And the tabs start from the right
    now, rides = (page.get_by_role("tab", name=name).bounding_box() for name in ("עכשיו", "נסיעות"))
    assert now is not None
    assert rides is not None
    assert now["x"] > rides["x"]


def test_a_phone_sized_screen_needs_no_sideways_scrolling_and_every_control_is_named(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.locator(".matching, .matchings .empty").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea')]
            .filter((c) => c.offsetParent !== null)
            .filter((c) => !(c.getAttribute('aria-label') || (c.labels && c.labels.length) || c.textContent.trim()))
            .map((c) => c.outerHTML)"""
    )
    assert unnamed == []


def test_a_dispatcher_key_sees_rides_but_not_the_admin_panels(
    page: Page, demo: StackClient, console_errors: ConsoleErrors
) -> None:
    # Given a dispatcher key of the demo fleet
    admin = {"Authorization": "Bearer demo-admin-key"}
    fleet_id = demo.get("/me", headers=admin).json()["fleet_id"]
    issued = demo.post(f"/fleets/{fleet_id}/api-keys", headers=admin, json={"role": "dispatcher", "label": "desk"})
    key = issued.json()["api_key"]
    ride = {"customer": {"name": "Desk Caller", "phone": "+447700900998"}, "pickup": {"address": "2 Low St"}}
    ride["dropoff"] = {"address": "Airport"}
    assert demo.post("/rides", headers={"Authorization": f"Bearer {key}"}, json=ride).status_code == 201
    # When it signs in
    sign_in(page, key=key)
    # Then Now and Rides are there, the admin panels are not, and nothing it may not read was asked for
    expect(page.get_by_role("tab", name="Rides")).to_be_visible()
    for admin_only in ("Drivers", "Channels", "Stats"):
        expect(page.get_by_role("tab", name=admin_only)).to_be_hidden()
    page.get_by_role("tab", name="Rides").click()
    page.locator("#rides-table tbody tr").first.wait_for()
    assert console_errors == []


def test_a_driver_is_blocked_and_unblocked_from_the_drivers_panel(page: Page, demo: StackClient) -> None:
    sign_in(page)
    page.get_by_role("tab", name="Drivers").click()
    row = page.locator("#drivers-table tbody tr").filter(has_text="Demo Driver 5")
    try:
        # When the operator blocks Demo Driver 5, Then the row says so
        page.get_by_role("button", name="Block: Demo Driver 5").click()
        expect(row).to_have_attribute("data-status", "blocked")
        # When they unblock them, Then the driver is active again
        page.get_by_role("button", name="Unblock: Demo Driver 5").click()
        expect(row).to_have_attribute("data-status", "active")
    finally:  # the other tests count on five active demo drivers
        driver_id = row.get_attribute("data-driver-id")
        demo.patch(
            f"/drivers/{driver_id}", headers={"Authorization": "Bearer demo-admin-key"}, json={"status": "active"}
        )
