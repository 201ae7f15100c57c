"""The platform-wide phone index (`DRIVERPHONE#<e164>` / `FLEET#<fleet>`): which fleets have a driver on a
phone, for replies to the platform's own Twilio senders (SPEC §5 platform channels)."""

from ridecast.repositories.items import fleet_pk
from ridecast.repositories.table import query_all, table


def _pk(phone: str) -> str:
    return f"DRIVERPHONE#{phone}"


class DynamoDriverPhoneIndex:
    def add(self, phone: str, fleet_id: str, driver_id: str) -> None:
        item = {"PK": _pk(phone), "SK": fleet_pk(fleet_id), "item_type": "driver_phone", "driver_id": driver_id}
        table().put_item(Item={**item, "fleet_id": fleet_id})

    def remove(self, phone: str, fleet_id: str) -> None:
        table().delete_item(Key={"PK": _pk(phone), "SK": fleet_pk(fleet_id)})

    def drivers_for(self, phone: str) -> list[tuple[str, str]]:
        items = query_all(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": _pk(phone)})
        return [(str(item["fleet_id"]), str(item["driver_id"])) for item in items]
