"""What a fleet's receiver gets (SPEC §10): `{type, id, created_at, data: ride}`, the ride as GET /rides/{id}
shows it without its offers, as it stood when the event happened."""

from typing import Any

from ridecast.api.models.rides import RideOut
from ridecast.domain.rides.events import RideEvent


def event_body(event: RideEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "id": event.event_id,
        "created_at": event.created_at.isoformat(),
        "data": RideOut.from_domain(event.ride).model_dump(mode="json", exclude={"offers"}),
    }
