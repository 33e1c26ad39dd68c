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

The policy lives here and nowhere else: a public write view is decorated with `write_slot`
(which also answers `Busy` with the busy page), a service that writes in groups calls
`write_together`, and code that is not a view (an API helper) holds `write_turn()`.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
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

    @property
    def waiting(self) -> int:
        """How many threads are waiting for a slot."""
        with self._mutex:
            return len(self._waiters)

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


@contextmanager
def write_turn() -> Iterator[None]:
    """Hold one of this process's write slots for the block; raises Busy (nothing written)
    when none frees within WRITE_WAIT_SECONDS."""
    slots = write_slots()
    if not slots.acquire(timeout=float(settings.WRITE_WAIT_SECONDS)):
        raise Busy()
    try:
        yield
    finally:
        slots.release()


def write_slot(
    view: Callable | None = None, *, bare: bool = False, grouped: bool = False
) -> Callable:
    """The write policy of a public view: its unsafe-method requests (POST, …) run within this
    process's write slots, and a write that waited too long (`Busy`) is answered with the busy
    page; GET and HEAD pass straight through. `grouped=True`: the view's write goes through
    `write_together`, whose batch takes the slot (so the request does not hold one while it
    waits for its batch). `bare=True` answers with a page without the site's header and
    footer (for forms shown in an iframe on someone else's site)."""
    if view is None:
        return functools.partial(write_slot, bare=bare, grouped=grouped)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return view(request, *args, **kwargs)
        try:
            if grouped:
                return view(request, *args, **kwargs)
            with write_turn():
                return view(request, *args, **kwargs)
        except Busy:
            return busy_response(request, bare=bare)

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

    @property
    def waiting(self) -> int:
        """How many items are queued and not yet taken into a batch."""
        with self._lock:
            return len(self._queue)

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


_groups: dict[Callable, Together] = {}
_groups_lock = threading.Lock()


def write_together(write_many: Callable[[list], list], item: Any, *, max_batch: int) -> Any:
    """Write `item` with `write_many`, together with the items other threads of this process
    hand the same function at the same moment (one `Together` per function, at most
    `max_batch` items per call). Returns its result, raises its exception, or raises Busy."""
    size = max(1, int(max_batch))
    together = _groups.get(write_many)
    if together is None or together.max_batch != size:
        with _groups_lock:
            together = _groups.get(write_many)
            if together is None or together.max_batch != size:
                together = _groups[write_many] = Together(write_many, max_batch=size)
    return together.run(item)


def write_grouped_or_alone(
    write: Callable[[list], list], items: list, *, durable: bool = False
) -> list[Any]:
    """The write policy for a group of checked items: `write(items)` in one transaction;
    if anything in it raises, it is rolled back whole and each item is written alone through
    the same `write`, so only the item that fails gets its exception. Returns each item's
    result, or the exception it raised alone (to hand to the request it belongs to)."""
    if len(items) > 1:
        try:
            with transaction.atomic(durable=durable):
                return list(write(items))
        except Exception:  # noqa: BLE001, S110 - each one alone, below, tells its own request
            pass
    results: list[Any] = []
    for item in items:
        try:
            results.append(write_alone(write, item, durable=durable))
        except Exception as exc:  # noqa: BLE001 - handed to the request it belongs to
            results.append(exc)
    return results


def write_alone(write: Callable[[list], list], item: Any, *, durable: bool = False) -> Any:
    """`write([item])` in its own transaction (a savepoint inside an enclosing one unless
    `durable`). A concurrent request that stored the same row between the write's look and its
    insert makes the insert fail: the write is then made once more, and finds that row."""
    for attempt in range(2):
        try:
            with transaction.atomic(durable=durable):
                return write([item])[0]
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def write_group(write_many: Callable[[list], list]) -> Together | None:
    """The `Together` that `write_together` uses for `write_many` (None before its first
    write): its `waiting` count tells how many items wait for a batch."""
    return _groups.get(write_many)
