"""Keystore derivations across worker processes: which run where, in what order, and errors."""

from __future__ import annotations

import hashlib
import os

import pytest

from ethnet.chain.keystore import LIGHT_SCRYPT, STANDARD_SCRYPT, ScryptParams, derive_scrypt_key
from ethnet.errors import KeystoreError
from ethnet.repo.kdf_pool import (
    ScryptJob,
    derive_all,
    physical_memory,
    pool_size,
    usable_cores,
)

needs_two_cores = pytest.mark.skipif(usable_cores() < 2, reason="needs at least 2 usable cores")


def _jobs(count: int, params: ScryptParams) -> list[ScryptJob]:
    return [
        ScryptJob(f"password {i}".encode(), hashlib.sha256(b"salt %d" % i).digest(), params)
        for i in range(count)
    ]


def test_cheap_or_single_derivations_stay_in_this_process():
    assert pool_size(_jobs(8, LIGHT_SCRYPT)) == 1
    assert pool_size(_jobs(1, STANDARD_SCRYPT)) == 1
    assert pool_size(_jobs(0, STANDARD_SCRYPT)) == 1
    assert pool_size(_jobs(8, STANDARD_SCRYPT), workers=1) == 1
    with pytest.raises(ValueError, match="at least 1"):
        pool_size(_jobs(2, LIGHT_SCRYPT), workers=0)


def test_standard_derivations_get_one_worker_per_core_within_memory():
    size = pool_size(_jobs(64, STANDARD_SCRYPT))
    memory = physical_memory()
    # 256 MiB of scrypt table and 128 MiB of interpreter per worker, in half the memory
    memory_cap = memory // 2 // ((256 + 128) << 20) if memory else size
    assert size == max(1, min(64, usable_cores(), memory_cap))
    assert pool_size(_jobs(3, STANDARD_SCRYPT), workers=16) <= 3


def test_a_forced_pool_derives_in_other_processes_and_keeps_job_order():
    jobs = _jobs(5, LIGHT_SCRYPT)
    counts: list[int] = []

    result = derive_all(jobs, workers=2, on_done=counts.append)

    assert result.in_workers
    assert os.getpid() not in result.processes and 1 <= len(result.processes) <= 2
    assert list(result.keys) == [derive_scrypt_key(j.password, j.salt, j.params) for j in jobs]
    assert counts == [1, 2, 3, 4, 5]


def test_a_derivation_without_a_pool_runs_here():
    jobs = _jobs(2, LIGHT_SCRYPT)
    result = derive_all(jobs)
    assert result.processes == {os.getpid()} and not result.in_workers
    assert derive_all([]).keys == ()


def test_an_error_in_a_worker_reaches_the_caller():
    job = _jobs(1, LIGHT_SCRYPT)[0]
    not_bytes = ScryptJob("a str", job.salt, LIGHT_SCRYPT)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="password must be bytes"):
        derive_all([job, not_bytes], workers=2)


def test_an_error_here_is_the_keystore_error_scrypt_gives():
    impossible = ScryptParams(n=2, r=1, p=1 << 31)  # OpenSSL refuses: p * r too large
    with pytest.raises(KeystoreError, match="cannot run scrypt"):
        derive_all(_jobs(2, impossible), workers=2)  # too much memory for a pool: runs here


def test_job_and_result_reprs_show_no_secret():
    job = _jobs(1, LIGHT_SCRYPT)[0]
    assert "password" not in repr(job) and job.salt.hex() not in repr(job)
    result = derive_all([job])
    assert result.keys[0].hex() not in repr(result) and repr(result.keys[0]) not in repr(result)


@pytest.mark.slow
@needs_two_cores
def test_standard_derivations_run_in_worker_processes():
    # geth's standard cost: the pool is used without being asked for.
    jobs = _jobs(2, STANDARD_SCRYPT)
    result = derive_all(jobs)
    assert result.in_workers
    assert os.getpid() not in result.processes
    expected = hashlib.scrypt(
        jobs[1].password, salt=jobs[1].salt, n=1 << 18, r=8, p=1, maxmem=1 << 29, dklen=32
    )
    assert result.keys[1] == expected
