"""Telegram's webhooks: updates of a fleet's bot and of the platform's bot.

Each proves who sent it by its secret token; the route checks that before it reads the body, so strangers
learn nothing about what we accept. One module per provider, so each webhook function loads only its own
provider's side (cold start, SPEC §7)."""

from typing import Any

from aws_lambda_powertools.event_handler import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from ridecast.api.bodies import check_json_object
from ridecast.api.callers import PROVIDER
from ridecast.api.routing import Routes
from ridecast.api.telegram import TelegramUpdate
from ridecast.domain.channels.webhooks import verify_platform_telegram, verify_telegram
from ridecast.domain.drivers.telegram_bot import handle_bot_update, handle_platform_update
from ridecast.errors import InvalidInput
from ridecast.wiring import ports

telegram_updates = Routes(tag="webhooks")

_TELEGRAM_UPDATE = {
    "required": True,
    "description": "A Telegram Update; the parts not listed are ignored, not refused",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["update_id"],
                "properties": {
                    "update_id": {"type": "integer"},
                    "message": {"type": "object"},
                    "callback_query": {"type": "object"},
                    "edited_message": {"type": "object", "description": "a live location moving"},
                },
            }
        }
    },
}


class TelegramOk(BaseModel):
    model_config = ConfigDict(defer_build=True)  # see ridecast.domain.entities.DomainModel

    ok: bool = True


def _telegram_update(request: Request) -> TelegramUpdate:
    check_json_object(request.resolved_event)
    try:
        return TelegramUpdate.model_validate_json(request.resolved_event.decoded_body or "")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg')}", field=where) from None


# Both bots' updates: body="none" as the body is read here, after the secret, not before the route as on
# other JSON routes.
_AN_UPDATE: dict[str, Any] = {
    "callers": PROVIDER,
    "body": "none",
    "errors": (400, 403, 415, 422),
    "read_body": _TELEGRAM_UPDATE,
}


@telegram_updates.post("/webhooks/telegram/<fleet_id>", **_AN_UPDATE)
def bot_update(fleet_id: str, request: Request) -> TelegramOk:
    """An update of the fleet's bot: offer buttons, /start registration, /online, /offline, locations
    (X-Telegram-Bot-Api-Secret-Token checked before the body is read)."""
    fleet = verify_telegram(ports(), fleet_id, request.headers.get("x-telegram-bot-api-secret-token"))
    update = _telegram_update(request)
    handle_bot_update(ports(), fleet, update.update_id, update.event())
    return TelegramOk()


# A literal path: API Gateway (and the resolver) prefer it to `{fleet_id}`, so "platform" is never a fleet id.
@telegram_updates.post("/webhooks/telegram/platform", **_AN_UPDATE)
def platform_bot_update(request: Request) -> TelegramOk:
    """An update of the platform's own bot, shared by the fleets without one: the driver's fleet is found by
    the chat (or, on `/start <token>`, by the registration link); secret token checked against the platform's."""
    verify_platform_telegram(ports(), request.headers.get("x-telegram-bot-api-secret-token"))
    update = _telegram_update(request)
    handle_platform_update(ports(), update.update_id, update.event())
    return TelegramOk()
