# The dashboard's figures kept between requests (issue 15): the IKU table and the public report
# card take seconds on a large register, and a leader opening a page three times in a minute
# should wait once.
# Invariants:
# - An entry is served only for the same key: the kind of figures, the kecamatan, the year,
#   the as-of date and the register's figure stamp (storage.figure_stamp, read in the
#   request's own read transaction before the figures), and only for the same office object
#   (its targets and definitions). Any write that can move a figure changes the stamp, so the
#   next request computes again; another kecamatan's entry has another key.
# - Bounded: at most `size` entries, the least recently used dropped first. In process memory
#   only: a restart (a new office file) starts empty.
# - Thread-safe (the pages run in FastAPI's thread pool), and one computation per key at a
#   time: a second request for a key being computed waits for it instead of computing again
#   beside it on the same cores.
# - Served as a copy: a page that changed what it was given cannot change the next page.
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar, cast

T = TypeVar("T")
# A few (year, date) views of each of 31 kecamatan (the kabupaten page reads them all); an
# entry is one IKU table, a few kB.
DEFAULT_SIZE = 128


@dataclass(frozen=True)
class Figures(Generic[T]):
    value: T
    computed_at: datetime


@dataclass(frozen=True)
class _Entry:
    office: object
    figures: Figures[object]


class FigureCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, office: object, compute: Callable[[], T], clock: Callable[[], datetime]
            ) -> Figures[T]:
        """The figures of `key` for `office`: kept ones, or `compute()` run now (its moment
        by `clock`, taken before it starts: the figures are at least that recent)."""
        while True:
            with self._lock:
                entry = self._items.get(key)
                if entry is not None and entry.office is office:
                    self._items.move_to_end(key)
                    return cast("Figures[T]", copy.deepcopy(entry.figures))
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            # Another request is computing this key: wait, then look again (if it failed,
            # this one computes).
            running.wait()
        try:
            started = clock()
            figures = Figures(compute(), started)
            with self._lock:
                self._items[key] = _Entry(office, cast(Figures[object], figures))
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return copy.deepcopy(figures)
        finally:
            with self._lock:
                del self._computing[key]
            running.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
