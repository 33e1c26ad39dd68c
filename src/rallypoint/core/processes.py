"""Helper processes that end with the process that started them.

A helper left running after its parent died (a `kill -9`, an out-of-memory kill) holds files,
memory and sometimes a database connection, and nobody will ever stop it. On Linux the kernel
sends a signal when the parent dies (prctl PR_SET_PDEATHSIG); elsewhere a daemon thread watches
the parent's pid.
"""

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 1.0


def exit_with_parent(*, parent_pid: int, signum: int = signal.SIGTERM, watch: bool = True) -> None:
    """Call first thing in a new child process (after fork, or in Popen's preexec_fn):
    `signum` is delivered to this process when `parent_pid` (the process that started it)
    dies. `parent_pid` is read by the parent before it starts the child, so that a parent
    gone before this call is noticed too.

    With Linux's prctl the signal also outlives an exec, so a program started through
    subprocess keeps it. The signal's disposition is the child's business: a Python child
    that inherited a handler ignoring SIGTERM must reset it (see `default_signals`).
    `watch=False` where no thread may be started (a preexec_fn, before an exec that would
    drop it anyway): without prctl the child is then only checked once, here."""
    if not _prctl_pdeathsig(signum) and watch:
        _watch_parent(parent_pid, signum)
    if os.getppid() != parent_pid:
        # The parent died before the request above was made: nobody will send the signal.
        os.kill(os.getpid(), signum)


def default_signals() -> None:
    """Give SIGTERM and SIGINT their default effect again in a forked child: a fork inherits
    the parent's Python handlers (a task worker's "shut down gracefully" one, for instance),
    which would leave the child deaf to the signal that is meant to end it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _prctl_pdeathsig(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, signum: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(POLL_SECONDS)
        os.kill(os.getpid(), signum)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
