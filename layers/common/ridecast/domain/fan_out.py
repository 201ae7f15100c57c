"""Work side by side on a bounded pool of threads: provider calls and their bookkeeping for a wave of offers or
a round of news, the rides of a batch. Channels, matching and rides all use it, so it belongs to none of them."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from ridecast.settings import get_settings


def in_parallel[T, R](work: Callable[[T], R], items: Iterable[T], at_most: int | None = None) -> list[R]:
    """`work` on every item, in order; bounded so 1,000 drivers do not mean 1,000 sockets."""
    batch = list(items)
    if len(batch) <= 1:
        return [work(item) for item in batch]
    workers = min(at_most or get_settings().broadcast_concurrency, len(batch))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, batch))
