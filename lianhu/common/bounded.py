"""Work a user's file drives, bounded in memory and time, so that one file can fail but not the process.

Linux only (these machines are Debian): both tools rest on resource limits.

- `memory_limit(megabytes)`: for the duration of a block the process may map only `megabytes` more
  than it holds at the start (RLIMIT_AS); Python's allocations beyond that raise MemoryError, which
  the caller turns into a failed job.
- `trial(func, megabytes=…, seconds=…)`: runs `func()` in a forked child under such a limit and a
  limit of CPU seconds, and says how it ended. Native code does not raise MemoryError: calamine
  (Rust) aborts the whole process when an allocation fails (a 1.6 KB sheet with one cell in A1 and
  one in XFD1048576 asks for 550 GB), so a file is read once in a child, where aborting costs
  nothing, before the process that has to survive reads it.
"""

from __future__ import annotations

import faulthandler
import os
import resource
import select
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MB = 1024 * 1024

# How a trial ended.
DONE = "done"  # func returned, or raised an ordinary exception (the caller meets it again doing the work itself)
MEMORY = "memory"  # MemoryError, or killed for want of memory (calamine's failed allocation aborts)
TIME = "time"  # out of CPU seconds, or stuck
CRASHED = "crashed"  # any other signal

_MEMORY_EXIT = 3


def address_space() -> int:
    """Bytes of address space this process has mapped: what RLIMIT_AS counts."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_limit(megabytes: int) -> Iterator[None]:
    """Within the block, allocations beyond `megabytes` more than the process holds now raise MemoryError.

    A tighter limit already in place stays (a trial inside a limited job keeps the job's)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space() + megabytes * MB
    for bound in (soft, hard):
        if bound != resource.RLIM_INFINITY:
            limit = min(limit, bound)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def trial(func: Callable[[], object], *, megabytes: int, seconds: int) -> str:
    """Run `func()` in a forked child within `megabytes` more memory and `seconds` of CPU; how it ended.

    The child hands nothing back: it is for work the caller then does itself, once it knows the work
    fits. It must not use the database connection or files it shares with the parent, and it leaves
    by os._exit, so nothing the parent set up (connections, atexit handlers, buffers) runs twice.
    """
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):  # not the worker's "stop after this sweep" handlers
                signal.signal(sig, signal.SIG_DFL)
            # An abort here is expected: neither calamine's "memory allocation of … bytes failed" with its
            # backtrace, nor Python's fault handler (pytest's), is news for the log.
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
            faulthandler.disable()
            _cpu_soft, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
            resource.setrlimit(resource.RLIMIT_CPU, (seconds if cpu_hard == resource.RLIM_INFINITY
                                                     else min(seconds, cpu_hard), cpu_hard))
            with memory_limit(megabytes):
                func()
        except MemoryError:
            code = _MEMORY_EXIT
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    ready = []
    try:
        handle = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([handle], [], [], seconds * 2 + 5)
        finally:
            os.close(handle)
    finally:
        if not ready:  # stuck without using CPU (a lock another thread held at the fork), or we were interrupted
            os.kill(pid, signal.SIGKILL)
        _pid, status = os.waitpid(pid, 0)
    if not ready:
        return TIME
    code = os.waitstatus_to_exitcode(status)
    if code in (0, 1):
        return DONE
    if code == _MEMORY_EXIT or code in (-signal.SIGABRT, -signal.SIGKILL):  # SIGKILL: the kernel's OOM killer
        return MEMORY
    if code == -signal.SIGXCPU:
        return TIME
    return CRASHED
