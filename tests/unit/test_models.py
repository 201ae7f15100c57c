"""Validation at the boundaries: settings bounds, phones, provider credentials, request bodies."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from ridecast.api.models.drivers import CreateDriverRequest, UpdateDriverRequest
from ridecast.api.models.fleets import (
    CreateFleetRequest,
    FleetSettingsPatch,
    TelegramInput,
    TwilioInput,
    TwilioSenderOut,
    UpdateFleetRequest,
)
from ridecast.api.models.rides import CancelRideRequest, CreateRideRequest
from ridecast.api.telegram import TelegramUpdate
from ridecast.domain.entities import AdminContact, Customer, FleetSettings, TelegramConfig, TwilioConfig, TwilioSender
from tests.fixtures import load_event

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
CONTENT_SID = "HX" + "fedcba9876543210" * 2


def _error_locations(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in error.errors()]


# ----- FleetSettings --------------------------------------------------------------------------------


def test_fleet_settings_defaults_follow_the_spec() -> None:
    settings = FleetSettings()
    assert (settings.driver_response_seconds, settings.matching_timeout_seconds) == (30, 300)


@pytest.mark.parametrize(
    ("driver_response_seconds", "matching_timeout_seconds"),
    [(1, 1), (1, 86400), (3600, 3600), (30, 300), (5, 12)],
)
def test_fleet_settings_accept_every_value_in_bounds_including_short_demo_values(
    driver_response_seconds: int, matching_timeout_seconds: int
) -> None:
    settings = FleetSettings(
        driver_response_seconds=driver_response_seconds, matching_timeout_seconds=matching_timeout_seconds
    )
    assert settings.matching_timeout_seconds == matching_timeout_seconds


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("driver_response_seconds", 0),
        ("driver_response_seconds", 3601),
        ("matching_timeout_seconds", 0),
        ("matching_timeout_seconds", 86401),
        ("low_availability_threshold", -1),
    ],
)
def test_fleet_settings_out_of_bounds_are_refused_naming_the_field(field: str, value: int) -> None:
    # Given a value just outside its SPEC §3 range (the other value kept compatible)
    values: dict[str, Any] = {field: value}
    if field == "driver_response_seconds":
        values["matching_timeout_seconds"] = 86400
    # When the settings are built, Then the error names that field
    with pytest.raises(ValidationError) as raised:
        FleetSettings(**values)
    assert field in _error_locations(raised.value)


def test_matching_timeout_below_the_response_window_is_refused() -> None:
    # Given a timeout shorter than one response window, When the settings are built, Then it is an error
    with pytest.raises(ValidationError, match="matching_timeout_seconds must not be below driver_response_seconds"):
        FleetSettings(driver_response_seconds=60, matching_timeout_seconds=59)


def test_settings_are_checked_again_when_assigned() -> None:
    # validate_assignment: an in-place edit cannot smuggle an out-of-range value into a fleet
    settings = FleetSettings()
    with pytest.raises(ValidationError):
        settings.driver_response_seconds = 0


def test_settings_patch_bounds() -> None:
    assert FleetSettingsPatch(driver_response_seconds=45).model_fields_set == {"driver_response_seconds"}
    with pytest.raises(ValidationError):
        FleetSettingsPatch(matching_timeout_seconds=86401)


# ----- phones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+447700900123", "+15005550006", "+1234567", "+123456789012345"])
def test_e164_phones_are_accepted(phone: str) -> None:
    assert Customer(name="Dana", phone=phone).phone == phone


@pytest.mark.parametrize(
    "phone",
    [
        "447700900123",  # no +
        "+0447700900123",  # country codes never start with 0
        "+123456",  # too short
        "+1234567890123456",  # more than 15 digits
        "+44 7700 900123",  # spaces
        "+44-7700-900123",
        "whatsapp:+447700900123",
        "",
    ],
)
def test_non_e164_phones_are_refused(phone: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Customer(name="Dana", phone=phone)
    assert _error_locations(raised.value) == ["phone"]


def test_admin_contact_needs_a_way_to_be_reached() -> None:
    assert AdminContact(name="Desk", telegram_chat_id="-1001234567890").telegram_chat_id == "-1001234567890"
    assert AdminContact(name="Desk", email="desk@example.com").email == "desk@example.com"
    with pytest.raises(ValidationError, match="needs a phone, a telegram_chat_id or an email"):
        AdminContact(name="Desk")


# ----- provider credentials ---------------------------------------------------------------------------


def test_twilio_config_patterns() -> None:
    # Given a well-formed account, When built, Then its senders are kept as given
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        senders=[TwilioSender(channel="sms", **{"from": "+15005550006"})],
        offer_content_sid=CONTENT_SID,
    )
    assert [(s.channel, s.from_) for s in config.senders] == [("sms", "+15005550006")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_sid", "AC" + "0" * 31),  # one digit short
        ("account_sid", "SK" + "0" * 32),  # an API key SID, not an account
        ("account_sid", "AC" + "g" * 32),  # not hex
        ("offer_content_sid", "HX" + "0" * 33),
        ("offer_content_sid", "MG" + "0" * 32),
        ("senders", []),
    ],
)
def test_twilio_config_refuses_malformed_values(field: str, value: Any) -> None:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "senders": [{"channel": "sms", "from": "+15005550006"}],
        field: value,
    }
    with pytest.raises(ValidationError) as raised:
        TwilioConfig.model_validate(values)
    assert field in _error_locations(raised.value)[0]


def test_twilio_sender_must_be_an_e164_number_on_a_twilio_channel() -> None:
    with pytest.raises(ValidationError):
        TwilioSender.model_validate({"channel": "telegram", "from": "+15005550006"})
    with pytest.raises(ValidationError):
        TwilioSender.model_validate({"channel": "sms", "from": "whatsapp:+15005550006"})


def test_twilio_input_auth_token_length() -> None:
    base = {"account_sid": ACCOUNT_SID, "senders": [{"channel": "sms", "from": "+15005550006"}]}
    assert TwilioInput.model_validate({**base, "auth_token": "x" * 16}).auth_token == "x" * 16
    with pytest.raises(ValidationError):
        TwilioInput.model_validate({**base, "auth_token": "x" * 15})


VALID_TELEGRAM = {
    "bot_token": "123456789:AAExampleBotTokenNotReal_0123456789",
    "bot_username": "northside_cabs_bot",
    "webhook_secret": "example-webhook-secret-0001",
}


def test_telegram_input_accepts_real_looking_credentials() -> None:
    assert TelegramInput.model_validate(VALID_TELEGRAM).bot_username == "northside_cabs_bot"
    assert TelegramConfig(bot_username="northside_cabs_bot").bot_username == "northside_cabs_bot"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bot_token", "AAExampleBotTokenNotReal_0123456789"),  # no bot id
        ("bot_token", "12:AAExampleBotTokenNotReal_0123456789"),  # bot id too short
        ("bot_token", "123456789:short"),
        ("bot_token", "123456789:has spaces in the token part!!"),
        ("bot_username", "1cabs_bot"),  # must start with a letter
        ("bot_username", "abc"),  # too short
        ("webhook_secret", "too-short"),
        ("webhook_secret", "has a space in the secret value"),
    ],
)
def test_telegram_input_refuses_malformed_values(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TelegramInput.model_validate({**VALID_TELEGRAM, field: value})
    assert _error_locations(raised.value) == [field]


# ----- request bodies ----------------------------------------------------------------------------------


def test_update_driver_request_with_nothing_to_update_is_refused() -> None:
    with pytest.raises(ValidationError, match="nothing to update"):
        UpdateDriverRequest.model_validate({})


def test_update_driver_request_with_one_field_is_fine() -> None:
    assert UpdateDriverRequest.model_validate({"status": "blocked"}).status == "blocked"


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (CreateRideRequest, load_event("rides/create_ride.json")["body"]),
        (CreateDriverRequest, load_event("drivers/create_driver.json")["body"]),
        (CreateFleetRequest, load_event("fleets/create_fleet.json")["body"]),
        (UpdateDriverRequest, load_event("drivers/update_driver.json")["body"]),
        (UpdateFleetRequest, load_event("fleets/update_fleet.json")["body"]),
        (CancelRideRequest, load_event("rides/cancel_ride.json")["body"]),
    ],
)
def test_unknown_fields_are_refused(model: type[BaseModel], body: str) -> None:
    # Given a valid body from events/ with one field the API does not know (a typo of a real one)
    model.model_validate_json(body)
    data = json.loads(body)
    data["priority_typo"] = "high"
    # When it is validated, Then the extra field is refused by name rather than silently dropped
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    assert "priority_typo" in _error_locations(raised.value)


def test_nested_unknown_fields_are_refused_too() -> None:
    body = {
        "customer": {"name": "Dana", "phone": "+447700900123", "email": "dana@example.com"},
        "pickup": {"address": "A"},
        "dropoff": {"address": "B"},
    }
    with pytest.raises(ValidationError) as raised:
        CreateRideRequest.model_validate(body)
    assert _error_locations(raised.value) == ["customer.email"]


def test_create_ride_request_strips_and_bounds_text() -> None:
    ride = CreateRideRequest.model_validate(
        {
            "customer": {"name": "  Dana  ", "phone": "+447700900123"},
            "pickup": {"address": "A"},
            "dropoff": {"address": "B"},
        }
    )
    assert ride.customer.name == "Dana"
    with pytest.raises(ValidationError):
        CreateRideRequest.model_validate(
            {
                "customer": {"name": "Dana", "phone": "+447700900123"},
                "pickup": {"address": ""},
                "dropoff": {"address": "B"},
            }
        )
    with pytest.raises(ValidationError):
        CreateRideRequest.model_validate(
            {
                "customer": {"name": "Dana", "phone": "+447700900123"},
                "pickup": {"address": "A", "lat": 91},
                "dropoff": {"address": "B"},
            }
        )


def test_create_fleet_request_knows_iana_timezones_only() -> None:
    assert CreateFleetRequest(name="Cabs", timezone="Europe/London").timezone == "Europe/London"
    with pytest.raises(ValidationError, match="unknown timezone"):
        CreateFleetRequest(name="Cabs", timezone="Mars/Olympus_Mons")


def test_create_fleet_request_refuses_incoherent_settings() -> None:
    with pytest.raises(ValidationError) as raised:
        CreateFleetRequest.model_validate(
            {"name": "Cabs", "settings": {"driver_response_seconds": 600, "matching_timeout_seconds": 300}}
        )
    assert _error_locations(raised.value) == ["settings"]


# ----- strict requests (SPEC §3 "Strictness") ------------------------------------------------------------


def _fleet(**settings: Any) -> dict[str, Any]:
    return {"name": "Cabs", "settings": settings}


RIDE = {"customer": {"name": "Dana", "phone": "+447700900123"}, "pickup": {"address": "A"}, "dropoff": {"address": "B"}}


@pytest.mark.parametrize(
    ("model", "data", "location"),
    [
        (CreateRideRequest, {**RIDE, "price": "12"}, "price"),
        (CreateRideRequest, {**RIDE, "price": True}, "price"),
        (CreateRideRequest, {**RIDE, "pickup": {"address": "A", "lng": "0.1"}}, "pickup.lng"),
        (CreateRideRequest, {**RIDE, "pickup_time": 1900000000}, "pickup_time"),
        (CreateRideRequest, {**RIDE, "pickup_time": "1900000000"}, "pickup_time"),
        (CreateFleetRequest, _fleet(driver_response_seconds="30"), "settings.driver_response_seconds"),
        (CreateFleetRequest, _fleet(low_availability_threshold=1.0), "settings.low_availability_threshold"),
        (FleetSettingsPatch, {"driver_response_seconds": False}, "driver_response_seconds"),
        (CreateDriverRequest, {"name": "A", "phone": "+447700900456", "channel": "sms", "rating": "5"}, "rating"),
    ],
)  # fmt: skip
def test_a_number_must_be_a_json_number(model: type[BaseModel], data: dict[str, Any], location: str) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    assert _error_locations(raised.value) == [location]


def test_integers_count_as_numbers_and_dates_come_as_iso_strings() -> None:
    ride = CreateRideRequest.model_validate(
        {**RIDE, "price": 12, "pickup": {"address": "A", "lat": 51}, "pickup_time": "2030-01-01T09:00:00+01:00"}
    )
    assert (ride.price, ride.pickup.lat, ride.pickup_time.isoformat()) == (12.0, 51.0, "2030-01-01T09:00:00+01:00")


def test_python_callers_may_hand_over_the_domain_values() -> None:
    # The local seed and tests build requests from the domain's own objects; the strict request takes them
    request = CreateFleetRequest(
        name="Cabs",
        admin_contacts=[AdminContact(name="Desk", telegram_chat_id="-100123")],
        settings=FleetSettings(driver_response_seconds=5, matching_timeout_seconds=20),
        twilio=TwilioInput(
            account_sid=ACCOUNT_SID,
            auth_token="x" * 16,
            senders=[TwilioSender.model_validate({"channel": "sms", "from": "+15005550006"})],
        ),
    )
    assert request.settings.driver_response_seconds == 5
    assert isinstance(request.settings, FleetSettings)


def test_a_patch_field_that_cannot_be_cleared_is_not_nullable_in_the_schema() -> None:
    schema = UpdateDriverRequest.model_json_schema()
    assert schema["properties"]["name"]["type"] == "string"
    assert "anyOf" not in schema["properties"]["name"]
    assert {"type": "null"} in schema["properties"]["rating"]["anyOf"]  # a rating can be cleared
    assert schema["minProperties"] == 1
    with pytest.raises(ValidationError, match="name cannot be null"):
        UpdateDriverRequest.model_validate({"name": None})


def test_twilio_senders_go_out_as_from() -> None:
    sender = TwilioSenderOut.from_domain(TwilioSender.model_validate({"channel": "sms", "from": "+15005550006"}))
    assert sender.model_dump() == {"channel": "sms", "from": "+15005550006", "messages_per_second": None}


@pytest.mark.parametrize("field", ["update_id", "message.chat.id", "callback_query.from.id"])
def test_a_telegram_update_with_a_huge_id_is_invalid(field: str) -> None:
    # Given an update whose id is a 2,100-digit number (DynamoDB refuses keys over 2,048 bytes)
    huge = "9" * 2100
    update = {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}, "text": "/online"}}
    update["callback_query"] = {"id": "q1", "from": {"id": 5}, "data": "a:x"}
    container: dict[str, Any] = update
    *path, last = field.split(".")
    for part in path:
        container = container[part]
    container[last] = 0
    raw = json.dumps(update).replace('": 0', f'": {huge}', 1)
    # When it is read, Then it is refused as input (422), not stored as a key
    with pytest.raises(ValidationError):
        TelegramUpdate.model_validate_json(raw)


# ----- fleets' webhooks (SPEC §10) ---------------------------------------------------------------------


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read from this test's environment, and forgotten after it."""
    from ridecast.settings import get_settings

    monkeypatch.setenv("TABLE_NAME", "ridecast-test")
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "ftp://example.com/hook", "https://", "http://127.0.0.1:8080/hook", "hook"]
)
def test_a_webhook_is_https_only_outside_the_local_stack(url: str, settings_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateFleetRequest.model_validate({"name": "Hook Cabs", "webhook": {"url": url}})
    assert _error_locations(refused.value) == ["webhook.url"]


def test_the_local_stack_setting_lets_a_webhook_reach_loopback_http(settings_env: pytest.MonkeyPatch) -> None:
    from ridecast.settings import get_settings

    settings_env.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    request = CreateFleetRequest.model_validate({"name": "Hook Cabs", "webhook": {"url": "http://127.0.0.1:9/h"}})
    assert request.webhook is not None
    with pytest.raises(ValidationError):  # still loopback only
        CreateFleetRequest.model_validate({"name": "Hook Cabs", "webhook": {"url": "http://example.com/h"}})


def test_a_webhook_names_only_known_events() -> None:
    with pytest.raises(ValidationError) as refused:
        UpdateFleetRequest.model_validate({"webhook": {"url": "https://x.example/h", "events": ["ride.paid"]}})
    assert _error_locations(refused.value)[0].startswith("webhook.events")
