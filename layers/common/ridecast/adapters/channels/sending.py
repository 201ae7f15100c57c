"""The one asyncio loop and HTTP connection pool that every Telegram and Twilio call goes out on.

A broadcast hands a whole wave to the loop at once (aiohttp: ~0.3-0.5 ms of CPU per request against
1.5-2.3 ms for the Twilio SDK on threads) and waits for the answers; a single send is a wave of one. The loop
runs on a daemon thread of its own, created on the first send and kept, with its pool, across invocations:
callers on any thread (the local stack serves many invocations at once in one process) submit coroutines to
it, and the per-bot pacing (ridecast.adapters.channels.pacing) is shared by all of them.

Under SnapStart nothing here exists at snapshot time (the loop starts on the first send), but should a send
ever run during init, the after-restore hook drops the loop and its connections: restored copies must not
share sockets.
"""

import asyncio
import atexit
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ridecast.adapters.channels.pacing import Pacer, forget_pacers
from ridecast.errors import ChannelError
from ridecast.settings import get_settings

if TYPE_CHECKING:
    import aiohttp

# A 429 says how long to wait; a bounded number of waits keeps a broadcast from stalling forever.
MAX_RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER_SECONDS = 30


class SendingLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="provider-sends", daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession = self.run(_open_session())

    def run[T](self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the loop and wait for its result (from any thread but the loop's own)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


def network_errors() -> tuple[type[BaseException], ...]:
    """Failures and timeouts on the way to the provider, who may well take the message on a second try (a
    function: `except` evaluates it only when something was raised, by when aiohttp is imported)."""
    import aiohttp

    return (aiohttp.ClientError, asyncio.TimeoutError)


async def _open_session() -> "aiohttp.ClientSession":
    # Imported with the first send: a webhook that only checks Twilio signatures never loads it.
    import aiohttp

    settings = get_settings()
    connector = aiohttp.TCPConnector(limit=settings.broadcast_concurrency, limit_per_host=0)
    # Per socket operation, not in total: a message queued behind the pool limit or a pacer is not late.
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=settings.provider_timeout_seconds, sock_read=settings.provider_timeout_seconds
    )
    # trust_env off: no proxy lookup in the environment for every request.
    return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False)


_current: SendingLoop | None = None
_current_lock = threading.Lock()


def sending_loop() -> SendingLoop:
    global _current
    with _current_lock:
        if _current is None or _current.loop.is_closed():
            _current = SendingLoop()
        return _current


def run[T](work: Coroutine[Any, Any, T]) -> T:
    """`work` (a wave of sends, or one call) on the shared loop; blocks the caller until it is done."""
    return sending_loop().run(work)


async def each[M, R](send: Callable[[M], Awaitable[R]], messages: Sequence[M]) -> list[R | ChannelError]:
    """Every message at once (the pool and the pacers bound them), each outcome in the order given: a
    provider's refusal is an outcome, anything else a bug that fails the batch."""
    outcomes = await asyncio.gather(*(send(m) for m in messages), return_exceptions=True)
    results: list[R | ChannelError] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, ChannelError):
            raise outcome
        results.append(outcome)
    return results


def session() -> "aiohttp.ClientSession":
    """The pooled session; only coroutines running on the sending loop may use it."""
    return sending_loop().session


class Answer(NamedTuple):
    status: int
    body: dict[str, Any]  # the JSON object answered, {} when there is none
    retry_after: str | None  # the Retry-After header as given


async def request(provider: str, method: str, url: str, **kwargs: Any) -> Answer:
    """One HTTP call on the pool (on the sending loop); a network failure or timeout is a retryable
    ChannelError named after `provider` (the provider may well take the message on a second try)."""
    try:
        async with session().request(method, url, **kwargs) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            return Answer(response.status, body if isinstance(body, dict) else {}, response.headers.get("Retry-After"))
    except network_errors() as error:
        raise ChannelError(f"{provider}: {type(error).__name__}", retryable=True) from None


async def paced(pacer: Pacer, call: Callable[[], Awaitable[Answer]], wait: Callable[[Answer], float]) -> Answer:
    """`call` in the pacer's turn; after a 429 the pacer holds every call on its key for the `wait` the provider
    asked (capped), and `call` goes again, MAX_RATE_LIMIT_RETRIES times at most. The last answer, 429 or not."""
    for _ in range(MAX_RATE_LIMIT_RETRIES + 1):
        await pacer.wait()
        answer = await call()
        if answer.status != 429:
            break
        pacer.hold(min(wait(answer), MAX_RETRY_AFTER_SECONDS))
    return answer


def drop_connections() -> None:
    """Close the loop and its pool; the next send opens fresh ones (after a SnapStart restore, in tests)."""
    global _current
    with _current_lock:
        current, _current = _current, None
    if current is not None:
        current.close()
    forget_pacers()


def _register_after_restore() -> None:
    try:
        from snapshot_restore_py import register_after_restore  # provided by the Lambda Python runtime
    except ImportError:  # not in Lambda (tests, the local stack): nothing is ever restored
        return
    register_after_restore(drop_connections)


_register_after_restore()
# Closed politely at exit too (aiohttp complains about a session left open).
atexit.register(drop_connections)
