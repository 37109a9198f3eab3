"""Many keystore key derivations at once, one worker process per core.

A keystore's scrypt derivation is CPU-bound, independent of every other one, and slow by
design (geth's standard parameters: about 0.8 s and 256 MiB). ``derive_all`` runs a batch
of them in a ``ProcessPoolExecutor`` and returns the derived keys in job order, so the
result does not depend on which worker finished first. All randomness is drawn by the
caller beforehand: a worker receives a password, a salt and the cost parameters through
the pool's pipe, and nothing else; nothing is written to disk.

Workers are started with "spawn": a fresh interpreter holds only what it is sent, never a
copy of the parent's memory (every key generated so far), and a parent with threads cannot
leave a lock held in the child, which is the hazard of "fork". The cost is start-up: a
spawned worker imports the parent's ``__main__`` script (for the ``ethnet`` command,
``ethnet.cli``), measured at 0.5 to 1 s per pool on a busy 2-core machine. "forkserver"
measured the same, because Python 3.11's forkserver does not preload ``__main__`` (the
preparation data it asks for has no ``main_path``), so each worker imports it anyway.
That start-up is paid only when a derivation costs more (``n * r * p`` at least
``PARALLEL_MIN_COST``): geth's standard parameters do, its light ones (and the tests'
keystores) stay in this process. A script that calls this must guard its entry point with
``if __name__ == "__main__":``, as every spawned multiprocessing program must.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from ethnet.chain.keystore import ScryptParams, derive_scrypt_key

PARALLEL_MIN_COST = 1 << 20
"""``n * r * p`` from which a derivation pays for starting worker processes: geth's
standard parameters cost 2^21 (about 0.8 s), its light ones about 2^17.6 (about 50 ms)."""

WORKER_OVERHEAD_BYTES = 128 << 20
"""Memory of one worker besides scrypt's own: an interpreter that has imported ethnet."""


@dataclass(frozen=True)
class ScryptJob:
    """One derivation: ``scrypt(password, salt)`` at ``params``. The repr shows no secret."""

    password: bytes = field(repr=False)
    salt: bytes = field(repr=False)
    params: ScryptParams

    @property
    def cost(self) -> int:
        """scrypt's work, proportional to its time: ``n * r * p``."""
        return self.params.n * self.params.r * self.params.p

    @property
    def memory(self) -> int:
        """Bytes scrypt allocates (``128 r n`` for its table, ``128 r p`` for its blocks)."""
        return 128 * self.params.r * (self.params.n + self.params.p)


@dataclass(frozen=True)
class Derivations:
    """The derived keys, in job order, and the processes that derived them."""

    keys: tuple[bytes, ...] = field(repr=False)
    processes: frozenset[int]
    """Process ids: this process's alone when the batch ran here."""

    @property
    def in_workers(self) -> bool:
        """Whether the batch ran in worker processes rather than in this one."""
        return bool(self.processes) and os.getpid() not in self.processes


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def pool_size(jobs: Sequence[ScryptJob], workers: int | None = None) -> int:
    """How many processes ``derive_all`` uses; 1 means this process, with no pool.

    ``workers=None`` decides: one per usable core when the derivations cost at least
    ``PARALLEL_MIN_COST`` each, else 1. A number is an upper bound (1 forces this process).
    Either way there are no more workers than jobs, and no more than half the machine's
    memory holds (each standard derivation needs 256 MiB).
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if len(jobs) < 2:
        return 1
    if workers is None:
        if min(job.cost for job in jobs) < PARALLEL_MIN_COST:
            return 1
        workers = usable_cores()
    size = min(workers, len(jobs))
    memory = physical_memory()
    if memory is not None:
        per_worker = max(job.memory for job in jobs) + WORKER_OVERHEAD_BYTES
        size = min(size, max(1, memory // 2 // per_worker))
    return size


def derive_all(
    jobs: Sequence[ScryptJob],
    *,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> Derivations:
    """Derive every job's key, in parallel when ``pool_size`` says so.

    ``on_done(count)`` is called after each derivation with the number done so far. The
    keys come back in job order, identical to a sequential run. If worker processes cannot
    be started or die (no ``/dev/shm``, a worker killed for memory), the remaining
    derivations run in this process instead.
    """
    size = pool_size(jobs, workers)
    if size == 1:
        return _derive_here(jobs, {}, on_done)
    keys: dict[int, bytes] = {}
    processes: set[int] = set()
    try:
        executor = ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_interrupts,
        )
    except OSError:
        return _derive_here(jobs, keys, on_done)
    broken = False
    try:
        running: dict[Future[tuple[bytes, int]], int] = {
            executor.submit(_derive_in_worker, job.password, job.salt, job.params): index
            for index, job in enumerate(jobs)
        }
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                keys[index], pid = future.result()
                processes.add(pid)
                if on_done:
                    on_done(len(keys))
    except (BrokenProcessPool, OSError):
        broken = True
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    if broken:
        # Finish in this process; the keys workers derived before are kept.
        here = _derive_here(jobs, keys, on_done)
        return Derivations(here.keys, frozenset(processes | here.processes))
    return Derivations(tuple(keys[i] for i in range(len(jobs))), frozenset(processes))


def _derive_here(
    jobs: Sequence[ScryptJob],
    keys: dict[int, bytes],
    on_done: Callable[[int], None] | None,
) -> Derivations:
    left = [index for index in range(len(jobs)) if index not in keys]
    for index in left:
        job = jobs[index]
        keys[index] = derive_scrypt_key(job.password, job.salt, job.params)
        if on_done:
            on_done(len(keys))
    here = frozenset({os.getpid()}) if left else frozenset()
    return Derivations(tuple(keys[i] for i in range(len(jobs))), here)


def _derive_in_worker(password: bytes, salt: bytes, params: ScryptParams) -> tuple[bytes, int]:
    return derive_scrypt_key(password, salt, params), os.getpid()


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: let the parent alone handle it, so that
    # workers do not each print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
