"""The one dispatcher for reactions across apps (DESIGN, layers).

A lower layer never imports a higher one, so when the registry saves a file it cannot call care to
re-check the child's duties. It publishes a topic instead; care subscribes in its `AppConfig.ready`.
Subscribers run synchronously, inside the publisher's transaction, so a reaction is never half-done:
if a subscriber fails the whole write rolls back (DESIGN principle 6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# The topics, declared here so a typo is an error and a reader finds every reaction in one place.
CHILD_SAVED = "registry.child_saved"  # kwargs: child, actor — one file created or edited
CHILDREN_SAVED = "registry.children_saved"  # kwargs: children, actor — a bulk registration
FILE_STATE_CHANGED = "registry.file_state_changed"  # kwargs: child, actor — archived, reactivated, moved
TOPICS = frozenset({CHILD_SAVED, CHILDREN_SAVED, FILE_STATE_CHANGED})

Subscriber = Callable[..., Any]
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(topic: str, fn: Subscriber) -> None:
    """Register `fn` for `topic` (idempotent, so a repeated `ready()` does not run it twice)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; declare it in shouhu.core.dispatch.TOPICS")
    if fn not in _subscribers[topic]:
        _subscribers[topic].append(fn)


def publish(topic: str, **kwargs: Any) -> list[Any]:
    """Call every subscriber of `topic` in registration order; returns their results."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; declare it in shouhu.core.dispatch.TOPICS")
    return [fn(**kwargs) for fn in _subscribers[topic]]


def subscribers(topic: str) -> tuple[Subscriber, ...]:
    """Who reacts to `topic` — for tests and for the architecture map."""
    return tuple(_subscribers[topic])
