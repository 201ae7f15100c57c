"""POST /webhooks/twilio/status: delivery receipts of offer messages."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.adapters.channels.twilio import TwilioSignatures
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.matching import driver_replies
from ridecast.http import install_error_handlers
from ridecast.interfaces import twilio
from ridecast.observability import logger, metrics, tracer
from ridecast.settings import get_settings
from ridecast.wiring import ports

app = APIGatewayHttpResolver()
install_error_handlers(app)


@app.post("/webhooks/twilio/status")
def delivery_receipt() -> Response[str]:
    event = app.current_event
    params = twilio.form_fields(event.decoded_body)
    raw_query = event.raw_query_string or ""
    # The callback URL Twilio signs carries the offer in its query string.
    signed = SignedRequest(
        url=f"{get_settings().base_url}/webhooks/twilio/status" + (f"?{raw_query}" if raw_query else ""),
        params=params,
        signature=event.headers.get("x-twilio-signature"),
    )
    receipt = twilio.delivery_receipt(params, raw_query)
    driver_replies.record_delivery_receipt(ports(), TwilioSignatures(), receipt, signed)
    return Response(status_code=204, content_type="text/plain", body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
