"""The driver who holds an assigned ride: told it is theirs with a way to give it back (SPEC §8), and found
again when they reply `cancel`."""

from ridecast.domain.channels.catalogue import render, ride_values
from ridecast.domain.channels.ports import Button
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.entities import Driver, Offer, Ride
from ridecast.domain.matching.broadcast import offer_link
from ridecast.domain.ports import Ports
from ridecast.ids import offer_token

GIVE_BACK_BUTTON = "g"


def tell_holder(router: ChannelRouter, ride: Ride, driver: Driver, offer: Offer | None, kind: str) -> None:
    """The ride is the driver's (`assigned_driver`, or `reassigned_driver` when the fleet handed it to them):
    Telegram carries a Give back button, SMS and WhatsApp say how to give it back."""
    fleet = router.fleet
    if offer is None:
        router.to_driver(driver, render(fleet, kind, **ride_values(ride, link="")))
        return
    # The link (in `reassigned_driver`: a driver handed the ride may never have had an offer) opens the offer
    # page, where the ride can be given back too.
    body = render(fleet, kind, **ride_values(ride, link=offer_link(offer)))
    token = offer_token(offer.ride_id, offer.driver_id, offer.secret)
    router.to_driver(
        driver,
        body + render(fleet, "give_back_hint"),
        telegram_body=body,
        buttons=(Button(render(fleet, "button_give_back"), f"{GIVE_BACK_BUTTON}:{token}"),),
    )


def held_ride(ports: Ports, driver_id: str, ride_code: str | None) -> tuple[Offer, Ride] | None:
    """The ride assigned to the driver now that a `cancel` reply gives back: the named one, else their newest."""
    for offer in ports.stores.offers.recent_for_driver(driver_id):
        if ride_code and offer.ride_code != ride_code:
            continue
        ride = ports.stores.rides.get(offer.ride_id)
        if ride is not None and ride.status == "assigned" and ride.driver_id == driver_id:
            return offer, ride
        if ride_code:
            return (offer, ride) if ride is not None else None
    return None
