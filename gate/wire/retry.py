"""Retrying one API call through transient faults, bounded by the wait's deadline.

This is the only module that imports tenacity. The policy: jittered exponential backoff
(AWS "full jitter"), at least as long as a ``Retry-After`` the server sent, and no retry whose
sleep would end past the deadline: then the last fault is raised to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    wait_random_exponential,
)

from gate.core.errors import OutOfRequestBudget, TransientError

__all__ = ["call_with_retries"]

T = TypeVar("T")

INITIAL_BACKOFF = 0.5


def call_with_retries(
    call: Callable[[], T],
    *,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    max_backoff: float,
    on_retry: Callable[[TransientError, float], None] = lambda fault, delay: None,
) -> T:
    """Run ``call``; retry it on :class:`TransientError` while the deadline allows (not on
    :class:`OutOfRequestBudget`: no slot will come in time)."""
    backoff = wait_random_exponential(multiplier=INITIAL_BACKOFF, max=max_backoff)

    def wait(state: RetryCallState) -> float:
        fault = _fault(state)
        return max(backoff(state), fault.retry_after or 0.0)

    def stop(state: RetryCallState) -> bool:
        return clock() + state.upcoming_sleep > deadline

    retried: list[TransientError] = []

    def before_sleep(state: RetryCallState) -> None:
        retried[:] = [_fault(state)]
        on_retry(_fault(state), state.upcoming_sleep)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError)
        & retry_if_not_exception_type(OutOfRequestBudget),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except OutOfRequestBudget:
        if retried:  # the fault that needed the retry is the cause, not the queue
            raise retried[0] from None
        raise


def _fault(state: RetryCallState) -> TransientError:
    assert state.outcome is not None
    fault = state.outcome.exception()
    assert isinstance(fault, TransientError)
    return fault
