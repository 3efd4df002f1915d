"""A worker waits longer after each failed batch, and not at all after a success."""

import pytest
from overlap_shared.worker import RetryPause


async def test_pauses_double_up_to_the_longest_and_reset_after_a_success() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pause = RetryPause(first_s=0.1, longest_s=0.5, sleep=sleep)
    for _ in range(5):
        with pytest.raises(ConnectionError):
            async with pause.around():
                raise ConnectionError("redis down")
    assert slept == [0.1, 0.2, 0.4, 0.5, 0.5]
    async with pause.around():
        pass
    with pytest.raises(ConnectionError):
        async with pause.around():
            raise ConnectionError("again")
    assert slept[-1] == 0.1
    assert len(slept) == 6  # a success does not sleep
