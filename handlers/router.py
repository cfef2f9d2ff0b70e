"""Routing of deliveries to handlers keyed by `"event"` or `"event.action"`, as Probot does.

Each handler module owns an `EventRouter`; the bot composes them in a fixed order. Every match
runs; one handler's failure is recorded under its name and does not hide the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from handlers.context import Context
from store.errors import is_temporary

Handler = Callable[[Context], Awaitable[None]]
log = logging.getLogger("autostack.router")


@dataclass(frozen=True)
class Route:
    """One handler and the keys it answers to."""

    keys: tuple[str, ...]
    handler: Handler

    @property
    def name(self) -> str:
        """`module.function`, the name failures and logs are recorded under."""
        return f"{self.handler.__module__}.{self.handler.__qualname__}"

    def matches(self, event: str, action: str | None) -> bool:
        """True for the bare event key, or `event.action` when the delivery has an action."""
        return event in self.keys or (action is not None and f"{event}.{action}" in self.keys)


@dataclass
class EventRouter:
    """An ordered list of routes; `@router.on("pull_request.opened", ...)` adds one."""

    routes: list[Route] = field(default_factory=list)

    def on(self, *keys: str) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine for each of `keys`."""
        if not keys:
            raise ValueError("EventRouter.on needs at least one 'event' or 'event.action' key")
        for key in keys:
            event, _, action = key.partition(".")
            if not event or (_ and not action):
                raise ValueError(f"bad route key {key!r}: use 'event' or 'event.action'")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(tuple(keys), handler))
            return handler

        return register

    def matching(self, event: str, action: str | None) -> list[Route]:
        """The routes that answer to this event and action, in registration order."""
        return [route for route in self.routes if route.matches(event, action)]


def compose(routers: Iterable[EventRouter]) -> EventRouter:
    """One router holding the routes of all `routers`, in the order given."""
    return EventRouter([route for router in routers for route in router.routes])


@dataclass
class DispatchResult:
    """What happened to each matching handler of one delivery."""

    matched: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    temporary: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    # the longest wait a temporary failure asked for (a rate limit's reset), if any
    retry_after: float | None = None

    @property
    def ignored(self) -> bool:
        """No handler answers to this delivery."""
        return not self.matched


async def dispatch(router: EventRouter, ctx: Context, *, skip: Iterable[str] = ()) -> DispatchResult:
    """Run every route matching the context's event, skipping names already done."""
    result = DispatchResult()
    already = set(skip)
    for route in router.matching(ctx.event, ctx.action):
        result.matched.append(route.name)
        if route.name in already:
            result.done.append(route.name)
            continue
        try:
            await route.handler(ctx)
        except Exception as exc:
            # a database or Redis outage is as temporary as a GitHub 502: the handler runs again
            if is_temporary(exc):
                ctx.log.warning("handler %s will be retried: %s", route.name, exc)
                result.temporary[route.name] = f"{type(exc).__name__}: {exc}"
                # a rate limit says when to come back: the longest such wait wins
                if (wait := getattr(exc, "retry_after", None)) is not None:
                    result.retry_after = max(result.retry_after or 0.0, wait)
            else:
                ctx.log.exception("handler %s failed", route.name)
                result.permanent[route.name] = f"{type(exc).__name__}: {exc}"
        else:
            result.done.append(route.name)
    return result
