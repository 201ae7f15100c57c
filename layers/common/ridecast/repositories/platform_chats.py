"""The platform bot's chat index (`PLATFORMCHAT#<chat>` / `META`): which fleet's driver a chat of the platform's
own Telegram bot is (SPEC §5 platform channels). Its updates name no fleet, only the chat."""

from ridecast.repositories.table import conditionally, table


def _key(chat_id: str) -> dict[str, str]:
    return {"PK": f"PLATFORMCHAT#{chat_id}", "SK": "META"}


class DynamoPlatformChatIndex:
    def bind(self, chat_id: str, fleet_id: str, driver_id: str) -> bool:
        # Conditional: two drivers opening their links from one chat at once cannot both get it.
        item = {**_key(chat_id), "item_type": "platform_chat", "fleet_id": fleet_id, "driver_id": driver_id}
        bound = conditionally(
            lambda: table().put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR (fleet_id = :f AND driver_id = :d)",
                ExpressionAttributeValues={":f": fleet_id, ":d": driver_id},
            )
        )
        return bound is not None

    def unbind(self, chat_id: str, fleet_id: str, driver_id: str) -> None:
        conditionally(
            lambda: table().delete_item(
                Key=_key(chat_id),
                ConditionExpression="fleet_id = :f AND driver_id = :d",
                ExpressionAttributeValues={":f": fleet_id, ":d": driver_id},
            )
        )

    def find(self, chat_id: str) -> tuple[str, str] | None:
        item = table().get_item(Key=_key(chat_id)).get("Item")
        return (str(item["fleet_id"]), str(item["driver_id"])) if item else None
