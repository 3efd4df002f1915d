"""The hot read path's parameter check: plain requests only, the rest go to the route."""

import pytest
from overlap_api.http.hot_reads import wanted_version


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        (b"", [], (True, None)),
        (b"min_version=0", [], (True, None)),
        (b"min_version=7", [], (True, 7)),
        (b"min_version=7", ["9"], (True, 9)),
        (b"", ["3"], (True, 3)),
        (b"min_version=9007199254740992", [], (True, 2**53)),
    ],
)
def test_plain_requests_give_their_min_version(
    query: bytes, headers: list[str], expected: tuple[bool, int | None]
) -> None:
    assert wanted_version(query, headers) == expected


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        (b"min_version=abc", []),
        (b"min_version=-1", []),
        (b"min_version=", []),
        (b"min_version=9007199254740993", []),
        (b"min_version=1&min_version=2", []),
        (b"other=1", []),
        (b"", ["1", "2"]),
        (b"", [" 1"]),
        (b"", ["1\n"]),
    ],
)
def test_anything_else_is_left_to_the_route(query: bytes, headers: list[str]) -> None:
    assert wanted_version(query, headers) == (False, None)
