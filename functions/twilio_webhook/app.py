"""POST /webhooks/twilio: a driver's SMS or WhatsApp reply. Answers TwiML well within Twilio's 15 s."""

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain import twilio_inbound
from ridecast.http import install_error_handlers
from ridecast.observability import logger, metrics, tracer

app = APIGatewayHttpResolver()
install_error_handlers(app)


@app.post("/webhooks/twilio")
def driver_reply() -> Response[str]:
    params = dict(parse_qsl(app.current_event.decoded_body or "", keep_blank_values=True))
    twiml = twilio_inbound.handle_message(params, app.current_event.headers.get("x-twilio-signature"))
    return Response(status_code=200, content_type="text/xml", body=twiml)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
