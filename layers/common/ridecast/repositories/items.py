"""DynamoDB item boundary: the single-table keys, and mapping domain objects to and from items.

Keys (one table, on-demand):
  fleet          PK=FLEET#<fleet>   SK=META    GSI1 FLEETS / <fleet>
  ride counter   PK=FLEET#<fleet>   SK=COUNTER#RIDES          value (atomic ADD)
  driver         PK=FLEET#<fleet>   SK=DRIVER#<driver>
  driver phone   PK=FLEET#<fleet>   SK=PHONE#<e164>           driver_id (uniqueness guard)
  api key        PK=APIKEY#<sha256> SK=META                   fleet_id, role (what the authorizer reads)
  api key ref    PK=FLEET#<fleet>   SK=APIKEY#<key id>        key_hash (to list and revoke a fleet's keys)
  ride           PK=RIDE#<ride>     SK=META    GSI1 FLEET#<fleet>#RIDES / <created_at>#<ride>
                                               GSI2 SEARCHING / <deadline_at>   (only while searching, not held)
  held ride      PK=FLEET#<fleet>   SK=HELD#<created_at>#<ride>   ride_id (while dispatch is paused, oldest first)
  offer          PK=RIDE#<ride>     SK=OFFER#<driver>  GSI1 DRIVER#<driver>#OFFERS / <sent_at>
  twilio sender  PK=SENDER#<e164>   SK=META                   fleet_id (inbound webhooks find their fleet)
  telegram chat  PK=FLEET#<fleet>   SK=TGCHAT#<chat id>       driver_id
  registration   PK=TGREG#<token>   SK=META                   fleet_id, driver_id, expires_at (TTL, single use)
  delivery seen  PK=DEDUPE#<source>#<id> SK=META              expires_at (TTL): each webhook delivery once
"""

import json
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from ridecast.domain.entities import Driver, Fleet, Offer, Ride

KEY_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "expires_at", "item_type"})
SEARCHING_INDEX_PK = "SEARCHING"
FLEETS_INDEX_PK = "FLEETS"
HELD_PREFIX = "HELD#"

ModelT = TypeVar("ModelT", bound=BaseModel)


def fleet_pk(fleet_id: str) -> str:
    return f"FLEET#{fleet_id}"


def ride_pk(ride_id: str) -> str:
    return f"RIDE#{ride_id}"


def driver_sk(driver_id: str) -> str:
    return f"DRIVER#{driver_id}"


def phone_sk(phone: str) -> str:
    return f"PHONE#{phone}"


def offer_sk(driver_id: str) -> str:
    return f"OFFER#{driver_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def held_ride_key(ride: Ride) -> dict[str, str]:
    """The ride's entry on its fleet's held list: created_at first, so the list reads in the order rides came."""
    return {"PK": fleet_pk(ride.fleet_id), "SK": f"{HELD_PREFIX}{ride.created_at.isoformat()}#{ride.ride_id}"}


def fleet_rides_gsi(fleet_id: str) -> str:
    return f"FLEET#{fleet_id}#RIDES"


def driver_offers_gsi(driver_id: str) -> str:
    return f"DRIVER#{driver_id}#OFFERS"


def to_attributes(model: BaseModel) -> dict[str, Any]:
    """JSON-mode dump with floats as Decimal, as DynamoDB wants; None fields are left out."""
    data: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True, by_alias=True), parse_float=Decimal)
    return data


def from_item[ModelT: BaseModel](model: type[ModelT], item: dict[str, Any]) -> ModelT:
    return model.model_validate({k: v for k, v in item.items() if k not in KEY_ATTRIBUTES})


def fleet_item(fleet: Fleet) -> dict[str, Any]:
    # GSI1 FLEETS / <fleet>: the fleets, listed without scanning the table (a fleet saved before this key
    # existed joins the list on its next save).
    keys = {"PK": fleet_pk(fleet.fleet_id), "SK": "META", "GSI1PK": FLEETS_INDEX_PK, "GSI1SK": fleet.fleet_id}
    return {**keys, "item_type": "fleet", **to_attributes(fleet)}


def driver_item(driver: Driver) -> dict[str, Any]:
    return {
        "PK": fleet_pk(driver.fleet_id),
        "SK": driver_sk(driver.driver_id),
        "item_type": "driver",
        **to_attributes(driver),
    }


def ride_item(ride: Ride) -> dict[str, Any]:
    item = {
        "PK": ride_pk(ride.ride_id),
        "SK": "META",
        "item_type": "ride",
        "GSI1PK": fleet_rides_gsi(ride.fleet_id),
        "GSI1SK": f"{ride.created_at.isoformat()}#{ride.ride_id}",
        **to_attributes(ride),
    }
    if ride.status == "searching":
        item["GSI2PK"] = SEARCHING_INDEX_PK
        item["GSI2SK"] = ride.deadline_at.isoformat()
    return item


def offer_item(offer: Offer) -> dict[str, Any]:
    return {
        "PK": ride_pk(offer.ride_id),
        "SK": offer_sk(offer.driver_id),
        "item_type": "offer",
        "GSI1PK": driver_offers_gsi(offer.driver_id),
        "GSI1SK": offer.sent_at.isoformat(),
        **to_attributes(offer),
    }


def sender_pk(phone: str) -> str:
    return f"SENDER#{phone}"


def telegram_chat_sk(chat_id: str) -> str:
    return f"TGCHAT#{chat_id}"


def registration_pk(token: str) -> str:
    return f"TGREG#{token}"


def dedupe_pk(source: str, delivery_id: str) -> str:
    return f"DEDUPE#{source}#{delivery_id}"
