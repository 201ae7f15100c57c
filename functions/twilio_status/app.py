"""POST /webhooks/twilio/status: delivery receipts of offer messages."""

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


@app.post("/webhooks/twilio/status")
def delivery_receipt() -> Response[str]:
    event = app.current_event
    params = dict(parse_qsl(event.decoded_body or "", keep_blank_values=True))
    twilio_inbound.handle_status(params, event.raw_query_string or "", event.headers.get("x-twilio-signature"))
    return Response(status_code=204, content_type="text/plain", body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
