"""Drivers of the caller's fleet (admin keys)."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.drivers import roster, telegram_registration
from ridecast.domain.drivers.commands import DriverChanges, NewDriver
from ridecast.domain.fleets import auth
from ridecast.http import current_principal, install_error_handlers, json_response
from ridecast.interfaces.qr import qr_svg
from ridecast.models.api import CreateDriverRequest, DriverListOut, DriverOut, TelegramLinkOut, UpdateDriverRequest
from ridecast.observability import logger, metrics, tracer
from ridecast.wiring import ports

app = APIGatewayHttpResolver(enable_validation=True)
install_error_handlers(app, guard=lambda: _admin_fleet())


def _admin_fleet() -> str:
    return auth.require_fleet_role(current_principal(app), "admin")


@app.post("/drivers")
def register_driver(body: CreateDriverRequest) -> Response[Any]:
    driver = roster.register_driver(ports(), _admin_fleet(), NewDriver(**body.model_dump()))
    return json_response(201, DriverOut.from_domain(driver).model_dump(mode="json"))


@app.get("/drivers")
def list_drivers(
    status: Annotated[Literal["active", "inactive", "blocked"] | None, Query()] = None,
) -> Response[Any]:
    found = roster.list_drivers(ports(), _admin_fleet(), status)
    return json_response(200, DriverListOut(drivers=[DriverOut.from_domain(d) for d in found]).model_dump(mode="json"))


@app.get("/drivers/<driver_id>")
def get_driver(driver_id: str) -> Response[Any]:
    driver = roster.get_driver(ports(), _admin_fleet(), driver_id)
    return json_response(200, DriverOut.from_domain(driver).model_dump(mode="json"))


@app.patch("/drivers/<driver_id>")
def update_driver(driver_id: str, body: UpdateDriverRequest) -> Response[Any]:
    driver = roster.update_driver(
        ports(), _admin_fleet(), driver_id, DriverChanges(**body.model_dump(exclude_unset=True))
    )
    return json_response(200, DriverOut.from_domain(driver).model_dump(mode="json"))


@app.get("/drivers/<driver_id>/telegram-link")
def telegram_link(driver_id: str) -> Response[Any]:
    link = telegram_registration.telegram_link(ports(), _admin_fleet(), driver_id)
    qr = qr_svg(link.url, title="Ridecast Telegram registration")
    return json_response(
        200, TelegramLinkOut(url=link.url, qr_svg=qr, expires_at=link.expires_at).model_dump(mode="json")
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
