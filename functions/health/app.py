"""GET /health: is the table reachable and is matching wired."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.adapters import health
from ridecast.http import install_error_handlers, json_response
from ridecast.observability import logger
from ridecast.wiring import ports

app = APIGatewayHttpResolver(enable_validation=True)
install_error_handlers(app)


@app.get("/health")
def get_health() -> Response[Any]:
    report = health.check(ports())
    return json_response(200, report)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
