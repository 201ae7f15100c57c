"""The driver's offer link: a small page, and the accept / reject answers (no API key: the token is the key)."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.matching import answers
from ridecast.errors import OfferNotFound
from ridecast.http import install_error_handlers, json_response
from ridecast.interfaces import offer_page
from ridecast.models.api import OfferAnswerOut
from ridecast.observability import logger, metrics, tracer
from ridecast.wiring import ports

app = APIGatewayHttpResolver(enable_validation=True)
install_error_handlers(app)


@app.get("/offers/<token>")
def show_offer(token: str) -> Response[str]:
    try:
        html = offer_page.render_offer(answers.view_offer(ports(), token))
        status = 200
    except OfferNotFound:
        html, status = offer_page.render_missing(), 404
    return Response(
        status_code=status,
        content_type=content_types.TEXT_HTML,
        body=html,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@app.post("/offers/<token>/accept")
def accept_offer(token: str) -> Response[Any]:
    ride = answers.accept(ports(), token)
    return json_response(200, OfferAnswerOut(result="assigned", ride_code=ride.code).model_dump(mode="json"))


@app.post("/offers/<token>/reject")
def reject_offer(token: str) -> Response[Any]:
    ride = answers.reject(ports(), token)
    return json_response(200, OfferAnswerOut(result="rejected", ride_code=ride.code).model_dump(mode="json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
