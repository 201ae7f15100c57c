"""Telegram's Update JSON, as far as the bot acts on it, and what it means for the domain."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ridecast.domain.drivers.telegram_bot import BotEvent, ChatMessage, PressedButton, SharedLocation

# Telegram's ids fit in 52 bits (chat ids are negative for groups); anything longer is not Telegram's and
# must not become a DynamoDB key (SPEC §11).
TelegramId = Annotated[int, Field(ge=-(2**53), le=2**53)]


class TelegramUser(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    id: TelegramId


class TelegramChat(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    id: TelegramId


class TelegramLocation(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class TelegramMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    message_id: TelegramId
    chat: TelegramChat
    text: str | None = None
    # A shared location, or a live one (then edited_message updates carry where it moved to).
    location: TelegramLocation | None = None


class CallbackQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    id: str = Field(max_length=64)
    from_: TelegramUser = Field(alias="from")
    data: str | None = Field(default=None, max_length=256)  # Telegram allows 64 bytes
    message: TelegramMessage | None = None


class TelegramUpdate(BaseModel):
    """The parts of a Telegram Update we act on; everything else is ignored, not rejected."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    update_id: TelegramId
    message: TelegramMessage | None = None
    callback_query: CallbackQuery | None = None
    edited_message: TelegramMessage | None = None

    def event(self) -> BotEvent | None:
        """What the update asks of the bot: a button press, a text, a location, or nothing we act on."""
        query = self.callback_query
        if query is not None:
            return PressedButton(
                callback_query_id=query.id,
                user_id=str(query.from_.id),
                data=query.data or "",
                chat_id=str(query.message.chat.id) if query.message else None,
                message_id=str(query.message.message_id) if query.message else None,
                message_text=(query.message.text or "") if query.message else "",
            )
        if self.message is not None and self.message.text:
            return ChatMessage(chat_id=str(self.message.chat.id), text=self.message.text)
        # A live location moving is an edit of the message that shared it; other edits are ignored.
        located = self.message if self.message is not None else self.edited_message
        if located is not None and located.location is not None:
            return SharedLocation(
                chat_id=str(located.chat.id),
                lat=located.location.latitude,
                lng=located.location.longitude,
                live_update=located is self.edited_message,
            )
        return None
