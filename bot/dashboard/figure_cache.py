# The dashboard's figures kept between requests (issue 15): the IKU table and the public report
# card take seconds on a large register (9-25 s on 1M complaints), and a leader opening a page
# three times in a minute should wait once, and after a write should not wait at all.
# Invariants:
# - An entry is kept per key (the kind of figures, the kecamatan, the year, the as-of date) with
#   the register's figure stamp it was computed under (storage.figure_stamp, read in the same
#   read transaction before the figures, so the figures are never older than their stamp), and
#   is served only for the same office object (its targets and definitions). Another
#   kecamatan's entry has another key; another office object is an empty entry.
# - Same stamp: the entry is served as it is. Another stamp (a write moved a figure since):
#   with `refresh` (a page that says when its figures were computed), the entry is served at
#   once marked `stale` and `refresh` runs in the background; without it (a workbook, the public
#   card), the figures are computed in the request, as for a key with no entry yet. Nothing is
#   ever served stale without saying so: Figures.stale is what the page reads to say
#   "sedang diperbarui". A past as-of date is no exception (a late-recorded complaint or a
#   correction moves it too): the stamp decides, never the date.
# - At most one computation per key at a time, in the request or in the background: a request
#   that must compute a key being computed (or waiting to be) waits for it and looks again;
#   a stale request for it only serves the old entry. The background recomputes run one at a
#   time in one worker thread of this cache (started when there is work, gone when there is
#   none), oldest first: on the office's two cores they never crowd out the requests.
# - A background recompute reads its own stamp in its own read transaction, first; its figures
#   replace the old entry in one step under the lock (a request sees the old entry or the new
#   one, never a mix). One that fails is logged and leaves the old entry; the next stale
#   request schedules it again.
# - Bounded: at most `size` entries, the least recently used dropped first. In process memory
#   only: a restart (a new office file) starts empty.
# - Served as a copy: a page that changed what it was given cannot change the next page.
from __future__ import annotations

import copy
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar, cast

T = TypeVar("T")
# A few (year, date) views of each of 31 kecamatan (the kabupaten page reads them all); an
# entry is one IKU table, a few kB.
DEFAULT_SIZE = 128

log = logging.getLogger(__name__)

# A background recompute: (the stamp it read first, the figures), in a read transaction of its own.
Refresh = Callable[[], tuple[object, T]]


@dataclass(frozen=True)
class Figures(Generic[T]):
    value: T
    computed_at: datetime
    # Computed before the register's last change that can move them; a recompute is under way.
    stale: bool = False


@dataclass(frozen=True)
class _Entry:
    office: object
    stamp: object
    figures: Figures[object]


@dataclass(frozen=True)
class _Job:
    key: Hashable
    office: object
    refresh: Refresh[object]
    clock: Callable[[], datetime]


class FigureCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        # Keys being computed, in a request or in the background (queued or running).
        self._computing: dict[Hashable, threading.Event] = {}
        self._jobs: deque[_Job] = deque()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def get(self, key: Hashable, office: object, compute: Callable[[], T], clock: Callable[[], datetime], *,
            stamp: object = None, refresh: Refresh[T] | None = None) -> Figures[T]:
        """The figures of `key` for `office` under the register's `stamp`: kept ones, or
        `compute()` run now (its moment by `clock`, taken before it starts: the figures are
        at least that recent). With `refresh`, figures kept under another stamp are served
        marked stale while `refresh` recomputes them in the background."""
        while True:
            with self._lock:
                entry = self._items.get(key)
                if entry is not None and entry.office is office:
                    if entry.stamp == stamp:
                        self._items.move_to_end(key)
                        return cast("Figures[T]", copy.deepcopy(entry.figures))
                    if refresh is not None:
                        self._items.move_to_end(key)
                        self._schedule(_Job(key, office, cast("Refresh[object]", refresh), clock))
                        return cast("Figures[T]", copy.deepcopy(replace(entry.figures, stale=True)))
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            # Another request or the background is computing this key: wait, then look again
            # (if it failed, or the register changed again meanwhile, this one computes).
            running.wait()
        try:
            started = clock()
            figures = Figures(compute(), started)
            with self._lock:
                self._store(key, office, stamp, cast("Figures[object]", figures))
            return copy.deepcopy(figures)
        finally:
            with self._lock:
                del self._computing[key]
            running.set()

    def _store(self, key: Hashable, office: object, stamp: object, figures: Figures[object]) -> None:
        # Under the lock: the entry is replaced in one step.
        self._items[key] = _Entry(office, stamp, figures)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def _schedule(self, job: _Job) -> None:
        # Under the lock. Debounced: a key queued or being computed is not queued again (its
        # recompute reads the newest stamp when it starts).
        if job.key in self._computing:
            return
        self._computing[job.key] = threading.Event()
        self._jobs.append(job)
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="sigap-angka-dasbor", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._worker = None
                    self._idle.notify_all()
                    return
                job = self._jobs.popleft()
            try:
                started = job.clock()
                stamp, value = job.refresh()
                with self._lock:
                    current = self._items.get(job.key)
                    # An entry of another office object (a new office file) is not replaced by
                    # figures computed for the old one.
                    if current is None or current.office is job.office:
                        self._store(job.key, job.office, stamp, Figures(value, started))
            except Exception:
                log.exception("Angka dasbor %r gagal dihitung ulang; angka sebelumnya tetap ditampilkan", job.key)
            finally:
                with self._lock:
                    done = self._computing.pop(job.key)
                done.set()

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until no background recompute is queued or running (tests, an orderly stop);
        False if some still was after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._worker is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._idle.wait(left):
                    return self._worker is None
            return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
