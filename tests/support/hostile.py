"""Hostile job specs shared by the API and portal tests and the bench, and a gate that proves a spec is parsed
off the event loop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# a "billion laughs": 10 aliases of 10 aliases ... 9 levels deep, a billion leaves once expanded
BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
    + ["name: t", "project: 1", "command: [true]", "env: {X: *i}"]
)


def while_parsing(
    patch: Callable[[Callable[..., Any]], None], send: Callable[[], Any], probe: Callable[[], Any]
) -> tuple[Any, Any]:
    """Send a spec whose parsing waits until ``probe`` (another request) has been answered: this only ends well
    when the parsing runs off the event loop."""
    entered, answered = threading.Event(), threading.Event()

    def gate(real: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any) -> Any:
            entered.set()
            assert answered.wait(60), "the event loop was held while a spec was parsed"
            return real(*args)

        return gated

    patch(gate)
    result: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: result.setdefault("r", send()))
    sender.start()
    try:  # whatever happens, the sender ends before the app does (a request in flight would hold its shutdown)
        assert entered.wait(60), "the spec was never parsed"
        probed = probe()
    finally:
        answered.set()
        sender.join(90)
    return probed, result["r"]
