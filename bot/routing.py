"""Feature routers that an update they cannot handle passes over in one check.

aiogram offers every update to each router in turn: the router wraps its outer middlewares,
checks its root filters, then runs the filters of each of its handlers until one matches.
`/orders` thus went through twelve routers and the 17 `Command(...)` filters of the seven
routers before the orders router (start, help, members, audit, tariff, journal, balance): each
filter parses the text again, each router visit copies the handler data four times. That cost
≈0.2 ms of CPU per update more than a dispatcher holding the orders router alone; sealed, the
difference is ≈0.02 ms.

Every feature router is a `FeatureRouter`. Once all routers are built, `seal()` looks at the
handlers of each one and of its sub-routers, per update type:

- none at all (the errors router for messages, the start router for callback queries): the
  router is passed over for that update type;
- message handlers that all carry a `Command` filter: a `CommandGate` with the union of those
  commands lets through only a message that is one of them; any other command, and any text
  that is not a command, passes the router over with one split and one set lookup;
- anything else (a dialog step, a document upload, a catch-all, a filter the gate cannot read,
  an outer middleware anywhere in the subtree): no gate, aiogram's routing as always.

The gate is only ever a necessary condition. It lets through everything the handlers' own
`Command` filters could accept (case-folded names, every prefix, any mention), and those
filters still decide: mention of another bot, `ignore_case`, deep links, `magic`, and the
`command: CommandObject` given to the handler are aiogram's own. Router order is unchanged, so
text in a dialog state and `/cancel` inside a task dialog reach the same handler as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command
from aiogram.types import Message, TelegramObject

# The update types whose events are `Message`s, the only ones a `Command` filter can match.
MESSAGE_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_message",
        "edited_business_message",
    }
)

Gate = Callable[[TelegramObject], bool]


class CommandGate:
    """Admits a message only when it is a command some handler of the router may accept.

    Parses as aiogram's `Command.extract_command` does — the first word of the text or caption,
    its first character the prefix, the name up to `@` — and compares case-folded names; the
    mention check (it needs the bot's username) is left to the handlers' own filters."""

    __slots__ = ("names", "prefixes")

    def __init__(self, names: frozenset[str], prefixes: str) -> None:
        self.names = names
        self.prefixes = prefixes

    def __repr__(self) -> str:
        return f"CommandGate({sorted(self.names)}, prefixes={self.prefixes!r})"

    def __call__(self, message: Message) -> bool:
        text = message.text or message.caption
        if not text:
            return False
        words = text.split(maxsplit=1)
        if not words:
            return False
        word = words[0]
        return word[0] in self.prefixes and word[1:].partition("@")[0].casefold() in self.names


def _nothing(event: TelegramObject) -> bool:
    """The gate of an update type no handler in the subtree takes."""
    return False


class FeatureRouter(Router):
    """An aiogram `Router` that, once sealed, passes over updates it cannot handle at once."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.gates: dict[str, Gate] = {}

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        gate = self.gates.get(update_type)
        if gate is not None and not gate(event):
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)


def seal(router: Router) -> None:
    """Compute the gates of every `FeatureRouter` in the tree. Call it once every handler is
    registered: a handler added to a sealed router later is reached only through its gate."""
    for each in _walk(router):
        if isinstance(each, FeatureRouter):
            each.gates = {
                update_type: gate
                for update_type in each.observers
                if (gate := gate_for(each, update_type)) is not None
            }


def gate_for(router: Router, update_type: str) -> Gate | None:
    """What the router and its sub-routers can take of this update type; None: anything."""
    subtree = [each.observers[update_type] for each in _walk(router)]
    if any(observer.outer_middleware for observer in subtree):
        return None  # aiogram runs outer middlewares for every update that reaches the router
    handlers = [handler for observer in subtree for handler in observer.handlers]
    if not handlers:
        return _nothing
    if update_type not in MESSAGE_UPDATES:
        return None
    names: set[str] = set()
    prefixes: set[str] = set()
    for handler in handlers:
        command = _command_filter(handler)
        if command is None:
            return None
        names.update(c.casefold() for c in command.commands)
        prefixes.update(command.prefix)
    return CommandGate(frozenset(names), "".join(sorted(prefixes)))


def _command_filter(handler: HandlerObject) -> Command | None:
    """The handler's `Command` filter (aiogram's, or a subclass keeping its meaning, such as
    `CommandStart`) when it names its commands as strings (no patterns)."""
    for item in handler.filters or ():
        command = item.callback
        if isinstance(command, Command) and all(isinstance(c, str) for c in command.commands):
            return command
    return None


def _walk(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from _walk(sub)
