"""Admission control: per-user cooldowns, a per-guild concurrency cap, a global bound.

Owns ``LimitsConfig``, ``Admission`` (decides, before any work starts, whether a request
may run; a ``Ticket`` holds its slot until the reply is sent) and ``Cooldown`` (a ``Busy``
that says when to come back). The decision is synchronous and O(1), so a refusal can be
answered at once, inside Discord's 3-second window, without deferring. The clock is
injected (tests drive it). Standard library and ``shared_model.errors`` only.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from shared_model import Busy, InvalidRequest


class Cooldown(Busy):
    """The user asked too often; ``retry_after`` seconds until the next request is allowed."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(f"you are going a little fast: try again in {math.ceil(retry_after)} s")


@dataclass(frozen=True)
class LimitsConfig:
    """How much one user, one guild and the whole bot may ask at once.

    Attributes:
        cooldown_uses: generations one user may start per ``cooldown_seconds``.
        cooldown_seconds: the cooldown window (sliding).
        guild_concurrency: generations in flight per guild (DMs count as one guild each user).
        max_in_flight: generations in flight for the whole process; the next is refused
            with a polite "busy" (the global queue bound).
    """

    cooldown_uses: int = 3
    cooldown_seconds: float = 30.0
    guild_concurrency: int = 8
    max_in_flight: int = 256

    def __post_init__(self) -> None:
        if isinstance(self.cooldown_uses, bool) or not isinstance(self.cooldown_uses, int) \
                or not 1 <= self.cooldown_uses <= 10_000:
            raise InvalidRequest(f"cooldown uses must be a whole number from 1 to 10000, "
                                 f"got {self.cooldown_uses!r}")
        if not 0 <= self.cooldown_seconds <= 86_400:
            raise InvalidRequest(f"cooldown seconds must be between 0 and 86400, "
                                 f"got {self.cooldown_seconds!r}")
        if not 1 <= self.guild_concurrency <= 10_000:
            raise InvalidRequest(f"guild concurrency must be from 1 to 10000, "
                                 f"got {self.guild_concurrency!r}")
        if not 1 <= self.max_in_flight <= 100_000:
            raise InvalidRequest(f"max in flight must be from 1 to 100000, got {self.max_in_flight!r}")


@dataclass
class Ticket:
    """An admitted request's slot; release it (``with ticket:``) when the reply is out."""

    admission: Admission
    guild: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.admission._release(self.guild)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class Admission:
    """Counts in-flight generations per guild and overall, and each user's recent starts."""

    config: LimitsConfig = field(default_factory=LimitsConfig)
    clock: Callable[[], float] = time.monotonic
    closed: bool = False
    _in_flight: int = 0
    _per_guild: dict[str, int] = field(default_factory=dict)
    _starts: dict[str, deque[float]] = field(default_factory=dict)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def admit(self, user: str, guild: str | None) -> Ticket:
        """A ticket for one generation, or an exception saying why not.

        Raises:
            Busy: the bot is shutting down, the whole bot or this guild is at its cap.
            Cooldown: this user started ``cooldown_uses`` generations in the window.
        """
        if self.closed:
            raise Busy("the bot is shutting down; try again in a minute")
        cfg = self.config
        if self._in_flight >= cfg.max_in_flight:
            raise Busy("I am busy writing for many people right now; please try again shortly")
        key = guild if guild is not None else f"dm:{user}"
        if self._per_guild.get(key, 0) >= cfg.guild_concurrency:
            raise Busy("this server already has as many generations running as I allow; "
                       "please try again when one finishes")
        now = self.clock()
        starts = self._starts.setdefault(user, deque())
        while starts and now - starts[0] >= cfg.cooldown_seconds:
            starts.popleft()
        if len(starts) >= cfg.cooldown_uses:
            raise Cooldown(cfg.cooldown_seconds - (now - starts[0]))
        starts.append(now)
        self._in_flight += 1
        self._per_guild[key] = self._per_guild.get(key, 0) + 1
        return Ticket(self, key)

    def _release(self, key: str) -> None:
        self._in_flight -= 1
        left = self._per_guild.get(key, 1) - 1
        if left > 0:
            self._per_guild[key] = left
        else:
            self._per_guild.pop(key, None)
