"""Telegram Bot API adapter: JSON POSTs on the shared sending loop (aiohttp), paced per bot."""

import hashlib
from collections.abc import Sequence
from typing import Any

from ridecast.adapters.channels import sending
from ridecast.adapters.channels.pacing import pacer_for
from ridecast.domain.channels.ports import OutboundMessage, SendReceipt
from ridecast.errors import ChannelError
from ridecast.settings import get_settings

# 429 answers carry retry_after; a bounded number of waits keeps a broadcast from stalling forever.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 30


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
        pacer = pacer_for(self._pacer_key, self._rate)
        for _ in range(MAX_RATE_LIMIT_RETRIES + 1):
            await pacer.wait()
            try:
                async with sending.session().post(f"{self._url}/{method}", json=payload) as response:
                    status = response.status
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = None
            except sending.network_errors() as error:
                raise ChannelError(f"telegram {method}: {type(error).__name__}", retryable=True) from None
            answer = answer if isinstance(answer, dict) else {}
            if status == 429:
                retry_after = float((answer.get("parameters") or {}).get("retry_after", 1))
                pacer.hold(min(retry_after, MAX_RETRY_AFTER_SECONDS))
                continue
            if not answer.get("ok"):
                description = str(answer.get("description") or f"HTTP {status}")
                raise ChannelError(
                    f"telegram {method}: {description}",
                    retryable=status >= 500,
                    provider_code=str(answer.get("error_code") or status),
                )
            return answer.get("result")
        raise ChannelError(f"telegram {method}: still rate limited", retryable=True, provider_code="429")

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
        self.call("editMessageText", {"chat_id": chat_id, "message_id": int(message_id), "text": text})

    def answer_callback(self, callback_query_id: str, text: str) -> None:
        self.call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})

    def probe(self) -> None:
        self.get_me()

    def get_me(self) -> dict[str, Any]:
        """The bot's own profile: the channel health probe (SPEC §5, the router issue) calls getMe."""
        result: dict[str, Any] = self.call("getMe", {})
        return result
