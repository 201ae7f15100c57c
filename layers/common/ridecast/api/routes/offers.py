"""The driver's offer link: a small page, the accept / reject answers and the give back (no API key: the token
is the key)."""

from aws_lambda_powertools.event_handler import Response, content_types

from ridecast.api import offer_page
from ridecast.api.callers import DRIVER_WITH_TOKEN
from ridecast.api.models.rides import OfferAnswerOut
from ridecast.api.routing import Routes
from ridecast.domain.matching import answers, reallocation
from ridecast.errors import OfferNotFound
from ridecast.wiring import ports

routes = Routes(tag="offers")

_HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}


@routes.get(
    "/offers/<token>",
    callers=DRIVER_WITH_TOKEN,
    success={"description": "The offer page", "content": _HTML_PAGE},
    responses={404: {"description": "A page saying the offer does not exist", "content": _HTML_PAGE}},
)
def show_offer(token: str) -> Response[str]:
    """The offer page a driver opens from the message: Accept / Reject."""
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


@routes.post("/offers/<token>/accept", callers=DRIVER_WITH_TOKEN, errors=(404, 409))
def accept_offer(token: str) -> OfferAnswerOut:
    """Accept: the first accept wins the ride; later ones get 409 with the reason in `result`."""
    ride = answers.accept(ports(), token)
    return OfferAnswerOut(result="assigned", ride_code=ride.code)


@routes.post("/offers/<token>/reject", callers=DRIVER_WITH_TOKEN, errors=(404, 409))
def reject_offer(token: str) -> OfferAnswerOut:
    """Reject the offer."""
    ride = answers.reject(ports(), token)
    return OfferAnswerOut(result="rejected", ride_code=ride.code)


@routes.post("/offers/<token>/release", callers=DRIVER_WITH_TOKEN, errors=(404, 409))
def release_offer(token: str) -> OfferAnswerOut:
    """Give back: the driver who holds the ride releases it and it goes back to matching without them; anyone
    else gets 409 with `result` `not_assigned_to_you` (SPEC §8)."""
    ride = reallocation.give_back(ports(), token)
    return OfferAnswerOut(result="released", ride_code=ride.code)
