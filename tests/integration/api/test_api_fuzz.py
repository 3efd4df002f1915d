"""schemathesis over the API's OpenAPI schema, against a real API process on PostgreSQL.

Every operation is called with generated valid and invalid input: no answer may be a
server error, and every answer must match the documented schema, status and media type.
The stateful test chains calls along the document's OpenAPI links (create an event, join
it with its token, paint availability with the participant key, read the view back...).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import Services
from tests.servers import api_process


@pytest.fixture(scope="module")
def api_url(services: Services, migrated: str) -> Iterator[str]:
    env = {
        **services.env(),
        "ENVIRONMENT": "test",
        # Valid input must be accepted (positive_data_acceptance); a route-class 429 would
        # be a refusal of valid data. The limits have tests of their own.
        "RATE_LIMITS_ENABLED": "false",
    }
    with api_process(env) as url:
        yield url


EVENT = {
    "title": "fuzz",
    "timezone": "UTC",
    "dates": ["2026-12-01"],
    "day_start": "09:00",
    "day_end": "12:00",
    "slot_minutes": 30,
}


@pytest.fixture(scope="module")
def event(api_url: str) -> dict:
    created = httpx.post(f"{api_url}/api/events", json=EVENT).json()
    joined = httpx.post(
        f"{api_url}/api/events/{created['token']}/participants", json={"name": "fuzzer"}
    ).json()
    return {**created, "participant_key": joined["participant_key"]}


def load_schema(api_url: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{api_url}/api/openapi.json")
    # A body over the limit (413) is as much a refusal of invalid data as a 422
    rejection = schema.config.checks.negative_data_rejection
    statuses = {"expected-statuses": [*rejection.expected_statuses, "413"]}
    schema.config.checks.negative_data_rejection = type(rejection).from_dict(statuses)
    return schema


def test_no_server_errors_and_schema_conformance(api_url: str, event: dict) -> None:
    schema = load_schema(api_url)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            if "token" in (case.path_parameters or {}) and case.method.upper() != "DELETE":
                case.path_parameters["token"] = event["token"]  # a real event: past the 404
            if case.headers is None:
                case.headers = {}
            case.headers["X-Participant-Key"] = event["participant_key"]
            # Schema-valid but semantically invalid input (an unknown zone, end before
            # start) is rightly a 422, so positive_data_acceptance does not apply.
            case.call_and_validate(base_url=api_url, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as exc:  # collect every operation's first failure, then report all
            failures.append(f"{operation.label}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


EV, ME = "/api/events/{token}", "/api/events/{token}/participants/me"
# (source, status, link name, target) of links the stateful test relies on; there are more
KEY_LINKS = [
    ("POST /api/events", "201", "Join", f"POST {EV}/participants"),
    ("POST /api/events", "201", "EditEvent", f"PATCH {EV}"),
    ("POST /api/events", "201", "DeleteEvent", f"DELETE {EV}"),
    ("POST /api/events", "201", "Finalize", f"POST {EV}/finalize"),
    (f"POST {EV}/participants", "201", "PutAvailability", f"PUT {ME}/availability"),
    (f"POST {EV}/participants", "201", "Leave", f"DELETE {ME}"),
    (f"PUT {ME}/availability", "200", "GetView", f"GET {EV}"),
    (f"POST {EV}/finalize", "200", "Calendar", f"GET {EV}/calendar.ics"),
    (f"POST {EV}/finalize", "200", "Reopen", f"POST {EV}/reopen"),
]


def test_the_document_links_operations(api_url: str) -> None:
    doc = httpx.get(f"{api_url}/api/openapi.json").json()
    ops = {
        f"{m.upper()} {p}": op for p, methods in doc["paths"].items() for m, op in methods.items()
    }
    for source, status, name, target in KEY_LINKS:
        link = ops[source]["responses"][status].get("links", {}).get(name, {})
        assert link.get("operationId") == ops[target]["operationId"], (source, name)
    every = [
        (link["operationId"], expr)
        for ops in doc["paths"].values()
        for op in ops.values()
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
        for expr in link["parameters"].values()
    ]
    assert len(every) >= 40 and {op for op, _ in every} <= {
        op["operationId"] for op in ops.values()
    }
    assert all(expr.count("$re") == 1 for _, expr in every), every  # one runtime expression


SLOTS = 6  # in EVENT


def _name(body: dict) -> dict:
    name = "".join(c for c in body["name"] if c.isprintable()).strip()[:40]
    return {"name": name or "someone"}


def _ranges(body: dict) -> dict:
    return {
        level: [[s % SLOTS, s % SLOTS + 1] for s, _ in ranges] for level, ranges in body.items()
    }


# Valid bodies that random data rarely gets past the semantic checks, mapped to ones that
# do (same shape, values pulled into range): keeps the chains going.
STEER: dict[str, Callable[[dict], dict]] = {
    "POST /api/events": lambda body: {**EVENT, "slot_minutes": body["slot_minutes"]},
    f"POST {EV}/participants": _name,
    f"PATCH {ME}": _name,
    f"POST {EV}/finalize": lambda b: {
        "start": b["start"] % SLOTS,
        "end": b["start"] % SLOTS + 1,
    },
    f"PUT {ME}/availability": _ranges,
    f"PATCH {ME}/availability": _ranges,
}


def test_stateful_runs_along_the_links(api_url: str) -> None:
    """Chains of linked calls: no server error, every answer as documented, and the links
    are really followed (keys reach the key-guarded routes and get past them)."""
    schema = load_schema(api_url)
    schema.config.phases.stateful.inference.algorithms = []  # only the document's own links
    followed: Counter[tuple[str, int]] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": api_url, "timeout": 10}

        def before_call(self, case: schemathesis.Case) -> None:
            # Steer valid cases past what random data rarely gets right, so that chains
            # start: a random bearer token is a 401, a random zone or grid a 422.
            if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
                return
            if case.headers:
                case.headers.pop("authorization", None)
            steer = STEER.get(case.operation.label)
            if steer is not None and isinstance(case.body, dict):
                case.body = steer(case.body)

        def step(self, input: StepInput) -> StepOutput:
            output: StepOutput = super().step(input)
            if input.transition is not None and input.is_applied:
                # "<source> -> [<status>] <link name> -> <target>"
                followed[(input.transition.id, output.response.status_code)] += 1
            return output

        def validate_response(
            self, response: Response, case: schemathesis.Case, *_: Any, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance],  # see the test above
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings(
            max_examples=150,  # 100 once missed every key-guarded link (30+ links)
            stateful_step_count=10,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    report = "\n".join(f"{n} x {link}: {status}" for (link, status), n in sorted(followed.items()))
    assert len({link for link, _ in followed}) >= 12, report  # of the document's 30 links
    ok = {link.split("] ")[1].split(" -> ")[0] for (link, status) in followed if status < 300}
    # the event's token, admin key and a participant key all carried the chain past the guard
    assert "Join" in ok and ok & {"EditEvent", "Finalize", "DeleteEvent"}, report
    assert ok & {"GetMe", "RenameMe", "Leave", "PutAvailability", "PatchAvailability"}, report
