"""Who a ride is offered to and in which order (SPEC §4.1): most recently seen first, or nearest first when
the ride asks `priority: "distance"`; none beyond the ride's `max_distance_km`."""

import math

from ridecast.domain.entities import Driver, GeoPoint, Ride

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG): within 0.5 % of the true great-circle distance


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance by the haversine formula, well-conditioned for the short hops of a city."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    half_dlat = (lat2 - lat1) / 2
    half_dlng = math.radians(b.lng - a.lng) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(half_dlng) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def pickup_point(ride: Ride) -> GeoPoint | None:
    pickup = ride.pickup
    return GeoPoint(lat=pickup.lat, lng=pickup.lng) if pickup.lat is not None and pickup.lng is not None else None


def rank_drivers(ride: Ride, drivers: list[Driver]) -> list[Driver]:
    """`drivers` (most recently seen first) in the order the ride offers them, without those it must not.

    By distance, located drivers come nearest first and the rest after them, still by recency; with
    `max_distance_km` only located drivers within it remain. The order is a stable sort, so ties keep recency."""
    # The request's exclusions were merged into these when the ride was created (create_ride).
    excluded = set(ride.excluded_driver_ids)
    candidates = [d for d in drivers if d.driver_id not in excluded]
    origin = pickup_point(ride)
    options = ride.matching
    if origin is None or (options.priority != "distance" and options.max_distance_km is None):
        return candidates
    away = {d.driver_id: distance_km(origin, d.location) for d in candidates if d.location is not None}
    if options.max_distance_km is not None:
        limit = options.max_distance_km
        candidates = [d for d in candidates if d.driver_id in away and away[d.driver_id] <= limit]
    if options.priority == "distance":
        candidates.sort(key=lambda d: (d.driver_id not in away, away.get(d.driver_id, 0.0)))
    return candidates
