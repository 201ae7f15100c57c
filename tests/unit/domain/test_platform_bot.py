"""The platform's own Telegram bot (SPEC §5): fleets without a bot of their own share it, and its updates,
which name no fleet, find the driver's fleet by the registration token and then by the chat."""

import pytest

from ridecast.domain.channels.webhooks import verify_platform_telegram
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.drivers.telegram_bot import ChatMessage, PressedButton, SharedLocation, handle_platform_update
from ridecast.domain.drivers.telegram_registration import telegram_link
from ridecast.domain.entities import Driver, Fleet, GeoPoint
from ridecast.domain.fleets.accounts import create_fleet
from ridecast.domain.fleets.commands import NewFleet
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import time_out
from ridecast.errors import WebhookForbidden
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_ride, token_for

PLATFORM = {
    "telegram_bot_token": "9000:platform-bot",
    "telegram_bot_username": "RidecastBot",
    "telegram_webhook_secret": "platform-webhook-secret",
}


@pytest.fixture
def fakes() -> Fakes:
    fakes = Fakes()
    fakes.secrets.platform = dict(PLATFORM)
    return fakes


def bare_fleet(fakes: Fakes, name: str = "Night Owls") -> Fleet:
    fleet, _, _ = create_fleet(fakes.ports, NewFleet.model_validate({"name": name}))
    return fleet


def telegram_driver(fakes: Fakes, fleet: Fleet, phone: str = "+447700900001") -> Driver:
    return register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="Tova", phone=phone, channel="telegram"))


def start_token(fakes: Fakes, fleet: Fleet, driver: Driver) -> str:
    url = telegram_link(fakes.ports, fleet.fleet_id, driver.driver_id).url
    assert url.startswith("https://t.me/RidecastBot?start=")
    return url.rsplit("=", 1)[1]


def test_a_driver_of_a_fleet_without_a_bot_registers_with_the_platform_bot_and_wins_by_button(fakes: Fakes) -> None:
    # Given a fleet created with only a name, and its Telegram driver's deep link (to the platform's bot)
    fleet = bare_fleet(fakes)
    driver = telegram_driver(fakes, fleet)
    token = start_token(fakes, fleet, driver)
    # When the driver opens it from chat 42 and goes online
    handle_platform_update(fakes.ports, 1, ChatMessage(chat_id="42", text=f"/start {token}"))
    handle_platform_update(fakes.ports, 2, ChatMessage(chat_id="42", text="/online"))
    # Then the chat is the driver's, platform-wide, and the bot welcomed them in the fleet's name
    stored = fakes.drivers.get(fleet.fleet_id, driver.driver_id)
    assert stored is not None
    assert stored.telegram_chat_id == "42"
    assert fakes.platform_chats.find("42") == (fleet.fleet_id, driver.driver_id)
    assert fakes.channels.to("42")[0].startswith("Welcome Tova! You will receive ride offers from Night Owls")
    assert fakes.channels.to("42")[-1].startswith("You are online")
    # And when a ride comes, the offer reaches the chat and the Accept button wins it
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert any(ride.code in body for body in fakes.channels.to("42"))
    data = f"a:{token_for(fakes, ride.ride_id, driver.driver_id)}"
    handle_platform_update(fakes.ports, 3, PressedButton(callback_query_id="q1", user_id="42", data=data))
    won = fakes.rides.get(ride.ride_id)
    assert won is not None
    assert (won.status, won.driver_id) == ("assigned", driver.driver_id)


def test_a_replayed_update_is_processed_once(fakes: Fakes) -> None:
    fleet = bare_fleet(fakes)
    driver = telegram_driver(fakes, fleet)
    handle_platform_update(
        fakes.ports, 7, ChatMessage(chat_id="42", text=f"/start {start_token(fakes, fleet, driver)}")
    )
    # When Telegram delivers update 7 again, and a new /offline under the same id
    handle_platform_update(fakes.ports, 7, ChatMessage(chat_id="42", text="/offline"))
    # Then nothing more happened
    stored = fakes.drivers.get(fleet.fleet_id, driver.driver_id)
    assert stored is not None
    assert stored.status == "active"
    assert len(fakes.channels.to("42")) == 1


def test_a_chat_the_platform_bot_does_not_know_is_told_to_register(fakes: Fakes) -> None:
    bare_fleet(fakes)
    handle_platform_update(fakes.ports, 1, ChatMessage(chat_id="77", text="/online"))
    handle_platform_update(fakes.ports, 2, ChatMessage(chat_id="77", text="/start not-a-live-token"))
    handle_platform_update(fakes.ports, 3, PressedButton(callback_query_id="q9", user_id="77", data="a:x"))
    assert fakes.channels.to("77") == [
        "This chat is not linked to a driver yet. Open the registration link your fleet sent you.",
        "This registration link is invalid or has expired. Ask your fleet for a new one.",
    ]
    assert fakes.channels.callback_answers == [("q9", "You have no open ride offer right now.")]


def test_one_chat_drives_for_one_fleet_on_the_platform_bot(fakes: Fakes) -> None:
    # Given chat 42 registered as a driver of one fleet on the platform bot
    first, second = bare_fleet(fakes, "First"), bare_fleet(fakes, "Second")
    ann = telegram_driver(fakes, first)
    handle_platform_update(fakes.ports, 1, ChatMessage(chat_id="42", text=f"/start {start_token(fakes, first, ann)}"))
    # When the same chat opens a driver's link of another fleet
    ben = telegram_driver(fakes, second, "+447700900002")
    handle_platform_update(fakes.ports, 2, ChatMessage(chat_id="42", text=f"/start {start_token(fakes, second, ben)}"))
    # Then it is refused and the chat still finds the first fleet's driver
    assert fakes.channels.to("42")[-1].startswith("This chat is already linked to another driver")
    assert fakes.platform_chats.find("42") == (first.fleet_id, ann.driver_id)
    stored = fakes.drivers.get(second.fleet_id, ben.driver_id)
    assert stored is not None
    assert stored.telegram_chat_id is None


def test_a_driver_who_registers_again_from_a_new_chat_frees_the_old_one(fakes: Fakes) -> None:
    fleet = bare_fleet(fakes)
    driver = telegram_driver(fakes, fleet)
    handle_platform_update(
        fakes.ports, 1, ChatMessage(chat_id="42", text=f"/start {start_token(fakes, fleet, driver)}")
    )
    handle_platform_update(
        fakes.ports, 2, ChatMessage(chat_id="43", text=f"/start {start_token(fakes, fleet, driver)}")
    )
    assert (fakes.platform_chats.find("42"), fakes.platform_chats.find("43")) == (
        None,
        (fleet.fleet_id, driver.driver_id),
    )


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_the_platform_webhook_wants_the_platforms_secret(fakes: Fakes, secret: str | None) -> None:
    with pytest.raises(WebhookForbidden):
        verify_platform_telegram(fakes.ports, secret)
    verify_platform_telegram(fakes.ports, PLATFORM["telegram_webhook_secret"])


def test_without_a_platform_bot_every_update_is_refused() -> None:
    with pytest.raises(WebhookForbidden):
        verify_platform_telegram(Fakes().ports, "")


def test_an_admin_alert_button_on_the_platform_bot_acts_for_the_rides_fleet(fakes: Fakes) -> None:
    # Given a fleet on the platform bot whose admin is on Telegram, and a ride of it that timed out
    fleet, _, _ = create_fleet(
        fakes.ports,
        NewFleet.model_validate({"name": "Night Owls", "admin_contacts": [{"name": "O", "telegram_chat_id": "4242"}]}),
    )
    telegram_driver(fakes, fleet)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    time_out(fakes.ports, ride.ride_id)
    [alert] = [m for m in fakes.channels.sent if m.to == "4242" and "timed out" in m.body]
    [button] = alert.buttons
    # When a stranger presses it, then the admin, through the platform bot's webhook
    for update_id, chat in ((10, "5151"), (11, "4242")):
        press = PressedButton(callback_query_id=f"q{chat}", user_id=chat, data=button.callback_data, chat_id=chat)
        handle_platform_update(fakes.ports, update_id, press)
    # Then only the admin's press rebroadcast the ride
    rides = fakes.rides.for_fleet(fleet.fleet_id, None, None, 100, None)[0]
    assert len(rides) == 2
    answers = dict(fakes.channels.callback_answers)
    assert answers["q4242"].startswith("Rebroadcast as ride")
    assert not answers["q5151"].startswith("Rebroadcast")


def test_a_location_on_the_platform_bot_moves_the_chats_driver_and_a_strangers_is_ignored(fakes: Fakes) -> None:
    # Given a driver registered with the platform's bot from chat 42
    fleet = bare_fleet(fakes)
    driver = telegram_driver(fakes, fleet)
    handle_platform_update(
        fakes.ports, 1, ChatMessage(chat_id="42", text=f"/start {start_token(fakes, fleet, driver)}")
    )
    told = len(fakes.channels.sent)
    # When chat 42 shares its live location, and a chat no fleet knows shares one too
    handle_platform_update(fakes.ports, 2, SharedLocation(chat_id="42", lat=48.8584, lng=2.2945, live_update=True))
    handle_platform_update(fakes.ports, 3, SharedLocation(chat_id="77", lat=1.0, lng=1.0))
    # Then the driver is where chat 42 said, and nobody was sent anything
    stored = fakes.drivers.get(fleet.fleet_id, driver.driver_id)
    assert stored is not None
    assert stored.location == GeoPoint(lat=48.8584, lng=2.2945)
    assert len(fakes.channels.sent) == told
