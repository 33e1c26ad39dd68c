"""A bound on how many public writes one web process runs at once (a bulkhead).

A gunicorn worker serves requests on a pool of threads. A signature, a join or an RSVP holds
its thread for the whole write (matching, several inserts, the commit), and on a busy day
hundreds arrive at once. Without a bound every thread ends up writing: a visitor who only
wants the mission page waits behind them, and the database gets more concurrent writers than
it has cores, which makes every one of them slower.

`write_slot` lets at most `WRITE_CONCURRENCY` of these writes run in one process at a time.
The others wait their turn (first come, first served) on a lock that costs no CPU, so the
remaining threads stay free for pages; run `rallypoint serve` with more threads than write
slots. A write that waits longer than `WRITE_WAIT_SECONDS` is answered with a polite 503 and
Retry-After instead of hanging; the browser keeps what was typed, so pressing Back and
sending again loses nothing.

`Together` goes further for writes that can be done in bulk (signatures): requests that
arrive at the same moment queue up, and one of them writes the whole queue at once, holding a
single write slot for it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.shortcuts import render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
RETRY_AFTER_SECONDS = 10


class FairSlots:
    """A counting semaphore that hands a freed slot to the longest waiter.

    `threading.Semaphore` lets a newly arrived thread take a slot ahead of threads already
    waiting, so under load some requests wait far longer than others; here the order of
    arrival is the order of service, which keeps the slowest answers close to the typical one.
    """

    def __init__(self, size: int):
        self.size = size
        self._free = size
        self._waiters: deque[threading.Lock] = deque()
        self._mutex = threading.Lock()

    def acquire(self, timeout: float | None = None) -> bool:
        with self._mutex:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            baton = threading.Lock()
            baton.acquire()
            self._waiters.append(baton)
        if baton.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            return True  # release() handed its slot straight to us
        with self._mutex:
            try:
                self._waiters.remove(baton)
            except ValueError:
                return True  # handed over just as the wait ran out: the slot is ours
        return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            elif self._free < self.size:
                self._free += 1
            else:
                raise ValueError("released more slots than were acquired")

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


_lock = threading.Lock()
_slots: FairSlots | None = None


def write_slots() -> FairSlots:
    """This process's slots, sized from settings (re-made if the setting changes)."""
    global _slots
    size = max(1, int(settings.WRITE_CONCURRENCY))
    if _slots is None or _slots.size != size:
        with _lock:
            if _slots is None or _slots.size != size:
                _slots = FairSlots(size)
    return _slots


def write_slot(view: Callable | None = None, *, bare: bool = False) -> Callable:
    """Run the view's unsafe-method requests (POST, …) within this process's write slots;
    GET and HEAD pass straight through. `@write_slot(bare=True)` answers a write that waited
    too long with a page without the site's header and footer (for forms shown in an iframe
    on someone else's site)."""
    if view is None:
        return functools.partial(write_slot, bare=bare)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return view(request, *args, **kwargs)
        slots = write_slots()
        if not slots.acquire(timeout=float(settings.WRITE_WAIT_SECONDS)):
            return busy_response(request, bare=bare)
        try:
            return view(request, *args, **kwargs)
        finally:
            slots.release()

    return wrapped


class Busy(Exception):
    """A write waited longer than WRITE_WAIT_SECONDS for its turn (nothing was written)."""


def busy_response(request, *, bare: bool = False):
    """The polite 503 of a write that waited too long (see `write_slot`)."""
    template = "core/busy_bare.html" if bare else "core/busy.html"
    response = render(request, template, {"retry_after": RETRY_AFTER_SECONDS}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class _Entry:
    __slots__ = ("item", "state", "result", "event")

    def __init__(self, item):
        self.item = item
        self.state = _QUEUED
        self.result = None
        self.event = threading.Event()


_QUEUED, _LEAD, _TAKEN, _DONE = range(4)


class Together:
    """Writes that arrive at the same moment, done together (group commit).

    `run(item)` queues the item and waits. The first thread to arrive while no batch is being
    written becomes the leader: it takes one of this process's write slots, takes its own item
    and up to `max_batch - 1` more that are waiting, writes them with one call of
    `write_many(items)` (which returns one result or exception per item, in order), hands each
    waiting thread its result, and passes the lead to the next item that arrived meanwhile.
    Alone, an item is written by its own thread at once; under load, one thread writes for
    many, in fewer statements and one transaction, while the others wait without using the
    CPU. An item still waiting for its turn after WRITE_WAIT_SECONDS is withdrawn (nothing
    written) and `run` raises Busy; one already being written is always waited for.
    """

    def __init__(self, write_many: Callable[[list], list], *, max_batch: int = 16):
        self.write_many = write_many
        self.max_batch = max(1, max_batch)
        self._lock = threading.Lock()
        self._queue: deque[_Entry] = deque()
        self._leading = False

    def run(self, item):
        entry = _Entry(item)
        with self._lock:
            self._queue.append(entry)
            if not self._leading:
                self._leading = True
                entry.state = _LEAD
        deadline = time.monotonic() + float(settings.WRITE_WAIT_SECONDS)
        while True:
            if entry.state == _LEAD:
                self._lead(entry, deadline)
            if entry.state == _DONE:
                if isinstance(entry.result, BaseException):
                    raise entry.result
                return entry.result
            remaining = deadline - time.monotonic()
            if not entry.event.wait(timeout=max(remaining, 0)):
                with self._lock:
                    if entry.state == _QUEUED:
                        self._queue.remove(entry)
                        raise Busy()
                if entry.state == _TAKEN:
                    entry.event.wait()  # being written: its answer comes
            if entry.state == _LEAD:
                entry.event.clear()

    def _lead(self, entry: _Entry, deadline: float) -> None:
        slots = write_slots()
        if not slots.acquire(timeout=max(deadline - time.monotonic(), 0)):
            with self._lock:
                self._queue.remove(entry)
                self._hand_over()
            entry.state, entry.result = _DONE, Busy()
            return
        try:
            with self._lock:
                self._queue.remove(entry)
                batch = [entry]
                while self._queue and len(batch) < self.max_batch:
                    batch.append(self._queue.popleft())
                for taken in batch:
                    taken.state = _TAKEN
            try:
                results = self.write_many([taken.item for taken in batch])
                if len(results) != len(batch):
                    raise RuntimeError("write_many must return one result per item")
            except BaseException as exc:  # every waiting request learns of it
                results = [exc] * len(batch)
            for taken, result in zip(batch, results, strict=True):
                taken.result = result
                taken.state = _DONE
                taken.event.set()
        finally:
            slots.release()
            with self._lock:
                self._hand_over()

    def _hand_over(self) -> None:
        """The next waiting item leads (call with the lock held)."""
        if self._queue:
            successor = self._queue[0]
            successor.state = _LEAD
            successor.event.set()
        else:
            self._leading = False
