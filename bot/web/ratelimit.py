"""Sign-in throttling: how many failed attempts a name or address may make in a window."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta


class SignInLimiter:
    """Counts failed sign-ins per key (account name, and separately client address).

    Kept in memory: a restart forgets the count, which is acceptable because the
    argon2 hash already makes each guess slow; it is there to stop a stream of guesses.
    """

    def __init__(
        self, attempts: int, window: timedelta, now: Callable[[], datetime], max_keys: int = 50_000
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.now = now
        self.max_keys = max_keys
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str) -> deque[datetime]:
        cutoff = self.now() - self.window
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, *keys: str) -> timedelta | None:
        """How long until another try is allowed, or None when any try is allowed now."""
        waits = []
        for key in keys:
            times = self._recent(key)
            if len(times) >= self.attempts:
                waits.append(times[0] + self.window - self.now())
        return max(waits) if waits else None

    def failed(self, *keys: str) -> None:
        """Record one failed attempt against each key."""
        if len(self._failures) >= self.max_keys:
            # Under a flood of distinct names, forget the oldest entries rather than grow forever.
            for old in list(self._failures)[: self.max_keys // 10]:
                del self._failures[old]
        for key in keys:
            self._failures.setdefault(key, deque()).append(self.now())

    def succeeded(self, *keys: str) -> None:
        """Forget failures for these keys after a good sign-in."""
        for key in keys:
            self._failures.pop(key, None)
