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
"""

from __future__ import annotations

import functools
import threading
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
    template = "core/busy_bare.html" if bare else "core/busy.html"

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return view(request, *args, **kwargs)
        slots = write_slots()
        if not slots.acquire(timeout=float(settings.WRITE_WAIT_SECONDS)):
            response = render(request, template, {"retry_after": RETRY_AFTER_SECONDS}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        try:
            return view(request, *args, **kwargs)
        finally:
            slots.release()

    return wrapped
