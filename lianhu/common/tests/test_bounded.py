"""Work bounded in memory and time: the work fails, the process that asked for it goes on."""

import os
import resource

import pytest

from lianhu.common import bounded

BIG = 512 * 1024 * 1024


def test_within_a_memory_limit_a_big_allocation_raises_and_the_limit_is_lifted_after():
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(MemoryError):
        with bounded.memory_limit(64):
            bytearray(BIG)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    bytearray(BIG)  # no limit any more


def test_a_limit_inside_a_tighter_one_keeps_the_tighter():
    with bounded.memory_limit(64):
        outer = resource.getrlimit(resource.RLIMIT_AS)[0]
        with bounded.memory_limit(4096):
            assert resource.getrlimit(resource.RLIMIT_AS)[0] == outer


def spin():
    while True:
        pass


def fail():
    raise ValueError("an ordinary problem, met again when the work is done for real")


@pytest.mark.parametrize("work, ended", [
    (lambda: bytearray(1024), bounded.DONE),
    (fail, bounded.DONE),
    (lambda: bytearray(BIG), bounded.MEMORY),
    (os.abort, bounded.MEMORY),  # what calamine does when an allocation fails
    (spin, bounded.TIME),
])
def test_a_trial_says_how_the_work_ended_and_the_process_goes_on(work, ended):
    assert bounded.trial(work, megabytes=64, seconds=1) == ended
