"""One invocation per container, as Lambda has it, for Powertools' HTTP resolvers.

Powertools keeps the invocation's state where only one invocation can see it in Lambda: the event on a
class attribute (`BaseRouter.current_event`, shared by every function) and the matched route and its
arguments in `app.context` (shared by the function's invocations). The local stack serves every function
in one process on many threads, so concurrent requests would read each other's event and route and
answer 401, 404 or 500 at random. Per thread, as in separate containers, each invocation sees its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_MISSING = object()


class PerThread:
    """An attribute with one value per thread (and resolver), for Powertools' per-invocation state."""

    def __init__(self, default: Callable[[], Any]) -> None:
        self._local = threading.local()
        self._default = default

    def _values(self) -> dict[int, Any]:
        values: dict[int, Any] | None = getattr(self._local, "values", None)
        if values is None:
            values = self._local.values = {}
        return values

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return self._values().setdefault(id(instance), self._default())

    def __set__(self, instance: object, value: Any) -> None:
        self._values()[id(instance)] = value


class InvocationIsolation:
    """Installed while a LocalRuntime runs; `remove()` puts Powertools back as it was."""

    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
        from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

        current_event = PerThread(lambda: None)
        original_resolve = ApiGatewayResolver.resolve

        def resolve(self: Any, event: Any, context: Any) -> Any:
            raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
            current_event.__set__(self, self._to_proxy_event(raw))
            return original_resolve(self, event, context)

        replacements = {"current_event": current_event, "context": PerThread(dict), "resolve": resolve}
        for name, value in replacements.items():
            self._saved[name] = ApiGatewayResolver.__dict__.get(name, _MISSING)
            setattr(ApiGatewayResolver, name, value)

    def remove(self) -> None:
        from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

        for name, value in self._saved.items():
            if value is _MISSING:
                delattr(ApiGatewayResolver, name)
            else:
                setattr(ApiGatewayResolver, name, value)
        self._saved.clear()
