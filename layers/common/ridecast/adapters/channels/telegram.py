"""Telegram Bot API adapter: JSON POSTs on the shared sending loop (aiohttp), paced per bot."""

import hashlib
from collections.abc import Sequence
from typing import Any

from ridecast.adapters.channels import sending
from ridecast.adapters.channels.pacing import pacer_for
from ridecast.domain.channels.ports import MessageEdit, OutboundMessage, SendReceipt
from ridecast.errors import ChannelError
from ridecast.settings import get_settings


class TelegramBotApi:
    def __init__(self, bot_token: str) -> None:
        settings = get_settings()
        self._url = f"{settings.telegram_api_base_url.rstrip('/')}/bot{bot_token}"
        self._rate = settings.telegram_messages_per_second
        # Keyed by a hash so the token itself never becomes a dict key that might be logged.
        self._pacer_key = "telegram:" + hashlib.sha256(bot_token.encode()).hexdigest()[:16]

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        return sending.run(self._call(method, payload))

    async def _call(self, method: str, payload: dict[str, Any]) -> Any:
        answer = await sending.paced(
            pacer_for(self._pacer_key, self._rate),
            lambda: sending.request(f"telegram {method}", "POST", f"{self._url}/{method}", json=payload),
            # Telegram's 429 carries how long to wait in its body.
            lambda a: float((a.body.get("parameters") or {}).get("retry_after", 1)),
        )
        if answer.status == 429:
            raise ChannelError(f"telegram {method}: still rate limited", retryable=True, provider_code="429")
        if not answer.body.get("ok"):
            description = str(answer.body.get("description") or f"HTTP {answer.status}")
            raise ChannelError(
                f"telegram {method}: {description}",
                retryable=answer.status >= 500,
                provider_code=str(answer.body.get("error_code") or answer.status),
            )
        return answer.body.get("result")

    def send(self, message: OutboundMessage) -> SendReceipt:
        return sending.run(self._send(message))

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        return sending.run(sending.each(self._send, messages))

    async def _send(self, message: OutboundMessage) -> SendReceipt:
        payload: dict[str, Any] = {"chat_id": message.to, "text": message.body}
        if message.buttons:
            payload["reply_markup"] = {
                "inline_keyboard": [[{"text": b.text, "callback_data": b.callback_data} for b in message.buttons]]
            }
        result = await self._call("sendMessage", payload)
        return SendReceipt(
            provider_message_id=str(result["message_id"]), chat_id=str(result.get("chat", {}).get("id", message.to))
        )

    def edit(self, chat_id: str, message_id: str, text: str) -> None:
        sending.run(self._edit(MessageEdit(chat_id, message_id, text)))

    def edit_many(self, edits: Sequence[MessageEdit]) -> list[ChannelError | None]:
        return sending.run(sending.each(self._edit, edits))

    async def _edit(self, edit: MessageEdit) -> None:
        await self._call(
            "editMessageText", {"chat_id": edit.chat_id, "message_id": int(edit.message_id), "text": edit.text}
        )

    def answer_callback(self, callback_query_id: str, text: str) -> None:
        self.call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})

    def probe(self) -> None:
        self.get_me()

    def get_me(self) -> dict[str, Any]:
        """The bot's own profile: the channel health probe (SPEC §5, the router issue) calls getMe."""
        result: dict[str, Any] = self.call("getMe", {})
        return result
