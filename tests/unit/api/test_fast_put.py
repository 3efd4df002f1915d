"""The PUT fast path's checks: it takes only what the route would accept as it stands and
leaves the rest (to be refused or judged by the route) alone."""

import orjson
import pytest
from overlap_api.http.fast_put import plain_body, plain_request
from overlap_shared.bitmaps import MAX_RANGES

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWx"
PATH = f"/api/events/{TOKEN}/participants/me/availability"
HEADERS = [
    (b"x-participant-key", b"k" * 32),
    (b"content-type", b"application/json"),
    (b"content-length", b"42"),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, ([], [])),
        ({"available": [[0, 4]]}, ([[0, 4]], [])),
        ({"available": [[0, 4]], "if_needed": [[4, 6], [9, 2]]}, ([[0, 4]], [[4, 6], [9, 2]])),
        ({"if_needed": [[-1, 10**12]]}, ([], [[-1, 10**12]])),  # the grid check is later
        ({"available": [[0, 1]] * MAX_RANGES}, ([[0, 1]] * MAX_RANGES, [])),
    ],
)
def test_plain_bodies_give_their_ranges(body: object, expected: object) -> None:
    assert plain_body(orjson.dumps(body)) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"available": [[0, 1]], "extra": 1}',
        b'{"available": null}',
        b'{"available": [[0, 1, 2]]}',
        b'{"available": [[0]]}',
        b'{"available": [[true, 1]]}',
        b'{"available": [[0, 1.0]]}',
        b'{"available": [["0", 1]]}',
        b'{"available": [{"0": 1}]}',
        b'{"available": [[0, 1]], "if_needed": 3}',
        b'{"available": [[0, NaN]]}',
        b'{"available": [[0, 99999999999999999999999]]}',
        orjson.dumps({"available": [[0, 1]] * (MAX_RANGES + 1)}),
    ],
)
def test_anything_the_route_might_judge_otherwise_is_left_to_it(raw: bytes) -> None:
    assert plain_body(raw) is None


def _scope(method: str = "PUT", path: str = PATH, headers: list | None = None) -> dict:
    return {"type": "http", "method": method, "path": path, "headers": headers or HEADERS}


def test_a_plain_request_gives_its_token_and_key() -> None:
    assert plain_request(_scope()) == (TOKEN, "k" * 32)
    with_charset = [HEADERS[0], (b"content-type", b"Application/JSON; charset=utf-8"), HEADERS[2]]
    assert plain_request(_scope(headers=with_charset)) == (TOKEN, "k" * 32)


@pytest.mark.parametrize(
    "scope",
    [
        _scope(method="PATCH"),
        _scope(method="GET"),
        _scope(path=f"/api/events/{TOKEN}/participants/me"),
        _scope(path="/api/events/short/participants/me/availability"),
        _scope(path=f"/api/events/{TOKEN}/x/participants/me/availability"),
        _scope(headers=HEADERS[1:]),  # no key
        _scope(headers=[*HEADERS, HEADERS[0]]),  # two keys
        _scope(headers=[(b"x-participant-key", b""), *HEADERS[1:]]),
        _scope(headers=[(b"x-participant-key", b"k" * 129), *HEADERS[1:]]),
        _scope(headers=[HEADERS[0], HEADERS[2]]),  # no content type
        _scope(headers=[HEADERS[0], (b"content-type", b"text/plain"), HEADERS[2]]),
        _scope(headers=[HEADERS[0], (b"content-type", b"application/x-json"), HEADERS[2]]),
        _scope(headers=HEADERS[:2]),  # no length
        _scope(headers=[*HEADERS[:2], (b"content-length", b"300000")]),
        _scope(headers=[*HEADERS[:2], (b"content-length", b"-1")]),
        _scope(headers=[*HEADERS, (b"transfer-encoding", b"chunked")]),
    ],
)
def test_other_requests_go_to_the_route(scope: dict) -> None:
    assert plain_request(scope) is None
