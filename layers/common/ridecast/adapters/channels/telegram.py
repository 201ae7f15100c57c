"""Telegram Bot API adapter (plain HTTPS through requests)."""

import hashlib
from typing import Any

import requests

from ridecast.adapters.channels.pacing import pacer_for
from ridecast.domain.channels.ports import OutboundMessage, SendReceipt
from ridecast.errors import ChannelError
from ridecast.settings import get_settings

# 429 answers carry retry_after; a bounded number of waits keeps a broadcast from stalling forever.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 30


class TelegramBotApi:
    def __init__(self, bot_token: str, session: requests.Session | None = None) -> None:
        settings = get_settings()
        self._url = f"{settings.telegram_api_base_url.rstrip('/')}/bot{bot_token}"
        self._timeout = settings.provider_timeout_seconds
        self._session = session or _shared_session()
        # Keyed by a hash so the token itself never becomes a dict key that might be logged.
        self._pacer = pacer_for(
            "telegram:" + hashlib.sha256(bot_token.encode()).hexdigest()[:16],
            settings.telegram_messages_per_second,
        )

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        for _ in range(MAX_RATE_LIMIT_RETRIES + 1):
            self._pacer.wait()
            try:
                response = self._session.post(f"{self._url}/{method}", json=payload, timeout=self._timeout)
            except requests.RequestException as error:
                raise ChannelError(f"telegram {method}: {type(error).__name__}", retryable=True) from None
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            if response.status_code == 429:
                retry_after = float((answer.get("parameters") or {}).get("retry_after", 1))
                self._pacer.hold(min(retry_after, MAX_RETRY_AFTER_SECONDS))
                continue
            if not answer.get("ok"):
                description = str(answer.get("description") or f"HTTP {response.status_code}")
                raise ChannelError(
                    f"telegram {method}: {description}",
                    retryable=response.status_code >= 500,
                    provider_code=str(answer.get("error_code") or response.status_code),
                )
            return answer.get("result")
        raise ChannelError(f"telegram {method}: still rate limited", retryable=True, provider_code="429")

    def send(self, message: OutboundMessage) -> SendReceipt:
        payload: dict[str, Any] = {"chat_id": message.to, "text": message.body}
        if message.buttons:
            payload["reply_markup"] = {
                "inline_keyboard": [[{"text": b.text, "callback_data": b.callback_data} for b in message.buttons]]
            }
        result = self.call("sendMessage", payload)
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


_session: requests.Session | None = None


def _shared_session() -> requests.Session:
    """Keep-alive connections across sends and invocations; sized for the broadcast fan-out."""
    global _session
    if _session is None:
        session = requests.Session()
        size = get_settings().broadcast_concurrency
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        # Reading proxy settings from the environment on every request cost ~1.6 ms of CPU per message.
        session.trust_env = False
        _session = session
    return _session
