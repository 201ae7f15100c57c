"""POST /webhooks/twilio: a driver's SMS or WhatsApp reply. Answers TwiML well within Twilio's 15 s."""

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


@app.post("/webhooks/twilio")
def driver_reply() -> Response[str]:
    params = twilio.form_fields(app.current_event.decoded_body)
    # Twilio signs the public URL it was given, whatever host or stage the request reached us through.
    signed = SignedRequest(
        url=f"{get_settings().base_url}/webhooks/twilio",
        params=params,
        signature=app.current_event.headers.get("x-twilio-signature"),
    )
    answer = driver_replies.answer_text_reply(ports(), TwilioSignatures(), twilio.text_reply(params), signed)
    return Response(status_code=200, content_type="text/xml", body=twilio.twiml(answer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
