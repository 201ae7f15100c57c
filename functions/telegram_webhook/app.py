"""POST /webhooks/telegram/{fleet_id}: the fleet's bot updates (buttons, /start, /online, /offline)."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ridecast.domain.channels.webhooks import verify_telegram
from ridecast.domain.drivers.telegram_bot import handle_bot_update
from ridecast.errors import InvalidInput
from ridecast.http import install_error_handlers, json_response
from ridecast.interfaces.telegram import TelegramUpdate
from ridecast.observability import logger, metrics, tracer
from ridecast.wiring import ports

app = APIGatewayHttpResolver()
install_error_handlers(app)


@app.post("/webhooks/telegram/<fleet_id>")
def bot_update(fleet_id: str) -> Response[Any]:
    event = app.current_event
    # The secret is checked before the body is even parsed: strangers learn nothing about our schema.
    fleet = verify_telegram(ports(), fleet_id, event.headers.get("x-telegram-bot-api-secret-token"))
    try:
        update = TelegramUpdate.model_validate_json(event.decoded_body or "")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg')}", field=where) from None
    handle_bot_update(ports(), fleet, update.update_id, update.event())
    return json_response(200, {"ok": True})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
