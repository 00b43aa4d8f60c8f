"""A dict that forgets its oldest entries: what the shop and sandbox keep per shopper is
bounded however many checkouts are abandoned."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")
DEFAULT_LIMIT = 256


class BoundedMap(Generic[V]):
    """Thread-safe string-keyed map keeping at most `limit` entries, oldest dropped first."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._items: OrderedDict[str, V] = OrderedDict()
        self._limit = limit
        self.lock = threading.RLock()  # callers hold it to read-then-write atomically

    def put(self, key: str, value: V) -> None:
        """Store `value`, replacing any older one, and drop the oldest beyond the limit."""
        with self.lock:
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def get(self, key: object) -> V | None:
        """The value under `key`, or None (also for a key that is not a string)."""
        if not isinstance(key, str):
            return None
        with self.lock:
            return self._items.get(key)

    def pop(self, key: str) -> V | None:
        """Remove and return the value under `key`, or None."""
        with self.lock:
            return self._items.pop(key, None)

    def __len__(self) -> int:
        with self.lock:
            return len(self._items)
