"""One-off, idempotent: give items written before this release the index entries the platform channels and
the daily report read. Run once against a deployed table after deploying:

    TABLE_NAME=<the TableName output> python scripts/backfill_indexes.py

- fleets get their GSI1 `FLEETS` keys (the daily report lists fleets through them);
- drivers get their platform phone index entry (`DRIVERPHONE#<e164>`: SMS/WhatsApp replies to the platform's
  senders find the driver's fleet). A fleet created before platform channels existed and without Twilio of
  its own may already have SMS drivers, now reached through the platform's senders.

Platform chats (`PLATFORMCHAT#<chat>`) need nothing: a fleet without a bot could not register Telegram drivers
before. Writing an entry twice changes nothing, so the script can be re-run or interrupted safely.
"""

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "common"))

from boto3.dynamodb.conditions import Attr

from ridecast.repositories.driver_phones import DynamoDriverPhoneIndex
from ridecast.repositories.items import FLEETS_INDEX_PK
from ridecast.repositories.table import table


def backfill() -> dict[str, int]:
    counts = {"fleets": 0, "drivers": 0}
    phones = DynamoDriverPhoneIndex()
    scan: dict[str, Any] = {"FilterExpression": Attr("item_type").is_in(["fleet", "driver"])}
    while True:
        page = table().scan(**scan)
        for item in page.get("Items", []):
            if item["item_type"] == "fleet" and "GSI1PK" not in item:
                fleet_id = str(item["fleet_id"])
                table().update_item(
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET GSI1PK = :pk, GSI1SK = :sk",
                    ExpressionAttributeValues={":pk": FLEETS_INDEX_PK, ":sk": fleet_id},
                )
                counts["fleets"] += 1
            elif item["item_type"] == "driver":
                phones.add(str(item["phone"]), str(item["fleet_id"]), str(item["driver_id"]))
                counts["drivers"] += 1
        if "LastEvaluatedKey" not in page:
            return counts
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


if __name__ == "__main__":
    print(backfill())
