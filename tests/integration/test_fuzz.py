"""Schemathesis against the served OpenAPI document, in-process: every operation gets generated
requests, valid and invalid, and every answer must be documented, typed as documented and not 5xx.

Each operation is fuzzed with inputs drawn from its schema alone (mostly ids and sizes that do not
exist, which exercises the 4xx paths), with the path and window pinned to values that exist in the
project (ids, sizes, an uploaded query, real image files) while the rest is still generated, so the
200 answers and their bodies are checked too, with invalid inputs, and then through schemathesis's
coverage phase (boundary values, missing inputs, each method the path does not declare).
Hypothesis runs from a fixed seed, so a rerun sends the same requests. The one exception is the
invalid inputs. Schemathesis mutates them in an order that changes with which other test modules the
session has imported, so their 404/422 split can shift by a few percent; their number does not.
"""
from __future__ import annotations

import io
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from deepviz.server.app import create_app
from deepviz.settings import ServeSettings
from tests.conftest import ColourExtractor

N = 24  # tiny_project: 3 colour classes x 8 images
SIZES = (32, 64, 128)
EXAMPLES = 90  # per operation and generation mode; an operation without inputs has one request
MIN_REQUESTS = 1000
SEED = 20261201
HOST = "http://localhost"  # the server refuses other Host names (guard.py), schemathesis's default among them

pytestmark = pytest.mark.slow


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), rgb, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def app(tiny_project: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # uploads_dir: an unknown query key is also looked up on disk, another path for fuzzed keys to reach
    settings = ServeSettings(max_upload_bytes=200_000, keep_uploads=1000)
    # A copy: fuzzed PUT /api/concepts/... write concepts.json, and tiny_project is shared and read-only.
    copy = tmp_path_factory.mktemp("fuzzed") / "tiny.deepviz"
    shutil.copytree(tiny_project, copy)
    return create_app(copy, settings, embedder=ColourExtractor(), uploads_dir=tmp_path_factory.mktemp("uploads"))


@pytest.fixture(scope="module")
def uploaded(app: FastAPI) -> str:
    """The key of a query uploaded before fuzzing, so the upload endpoints can be asked about one that exists."""
    with TestClient(app, base_url=HOST) as client:
        r = client.post("/api/queries/upload", files={"file": ("q.png", _png(20, 20, (90, 140, 30)), "image/png")})
    assert r.status_code == 200, r.text
    return str(r.json()["query"])


def _config(document: dict[str, Any]) -> Any:
    """Schemathesis's config. A schema-valid request may still get the 4xx its operation documents for
    what a schema cannot say (an id out of range, start > stop, bytes that are no image), but never 422,
    which would mean the schema allows what the server refuses to parse."""
    operations = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            domain = sorted(int(c) for c in spec["responses"] if c.startswith("4") and c != "422")
            operations.append({
                "include-name": f"{method.upper()} {path}",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", *domain]}},
            })
    # No constants from the app's source: they come from whichever deepviz modules the test session
    # happens to have imported, so the requests would change with the tests collected beside this one.
    return schemathesis.Config.from_dict({"operations": operations, "analysis": {"constants": {"enabled": False}}})


def _realistic(key: str) -> dict[str, Any]:
    """Per operation, a strategy of the inputs pinned to values that exist (passed to ``as_strategy``);
    the inputs left out are generated from the schema."""
    ids = st.integers(0, N - 1)
    sizes = st.sampled_from(SIZES)
    window = st.tuples(st.integers(0, N), st.integers(0, N)).map(sorted)
    id_list = st.lists(ids.map(str) | st.tuples(ids, ids).map(lambda ab: f"{min(ab)}-{max(ab)}"), min_size=1, max_size=30)
    image = st.builds(_png, st.integers(1, 64), st.integers(1, 64), st.tuples(*[st.integers(0, 255)] * 3))

    refs = ids.map(str) | st.just(f"upload:{key}")  # a query as the /api/ranking endpoints name it

    def ranked(path: dict[str, Any]) -> Any:
        return window.map(lambda w: {"path_parameters": path, "query": {"start": w[0], "stop": w[1]}})

    return {
        "GET /api/images/{image_id}": ids.map(lambda i: {"path_parameters": {"image_id": i}}),
        "GET /api/thumbs/{size}/batch": st.builds(
            lambda s, ids_: {"path_parameters": {"size": s}, "query": {"ids": ",".join(ids_)}}, sizes, id_list
        ),
        "GET /api/thumbs/{size}/{image_id}": st.builds(lambda s, i: {"path_parameters": {"size": s, "image_id": i}}, sizes, ids),
        "GET /api/rank/upload/{query}": ranked({"query": key}),
        "GET /api/rank/{image_id}": ids.flatmap(lambda i: ranked({"image_id": i})),
        "GET /api/ranking/curve": st.builds(
            lambda q, w, log: {"query": {"q": q, "width": w, "log": log}}, refs, st.integers(1, 2000), st.booleans()
        ),
        "GET /api/ranking/at": st.builds(lambda q, r: {"query": {"q": q, "ranks": ",".join(r)}}, refs, id_list),
        "GET /api/ranking/of": st.builds(lambda q, i: {"query": {"q": q, "ids": ",".join(i)}}, refs, id_list),
        "GET /api/ranking/spearman": st.builds(lambda a, b: {"query": {"a": a, "b": b}}, refs, refs),
        "POST /api/queries/upload": image.map(lambda data: {"body": {"file": data}}),
        "GET /api/queries/{query}/thumb": st.just({"path_parameters": {"query": key}}),
    }


class Tally:
    """What the fuzzing sent and got: status codes and the checks that failed, by operation."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.by_operation: dict[str, Counter[int]] = {}
        self.failures: list[str] = []
        self.no_invalid_input: list[str] = []
        self.other_methods: Counter[int] = Counter()  # requests with a method their path does not declare

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def send(self, case: Any) -> None:
        try:
            response = case.call(base_url=HOST)
        except Exception as err:
            # In-process, an endpoint that crashes raises here after its 500 has been sent: count it
            # as the 500 a browser would get, and go on to find the other operations that crash.
            self.statuses[500] += 1
            self.failures.append(f"{case.operation.label}: the server raised {err!r}\n{case.as_curl_command()}")
            return
        self.statuses[response.status_code] += 1
        self.by_operation.setdefault(case.operation.label, Counter())[response.status_code] += 1
        if case.method != case.operation.method.upper():
            self.other_methods[response.status_code] += 1
        try:
            case.validate_response(response)
        except (Failure, FailureGroup) as err:
            # Collected rather than raised: Hypothesis would stop at the first and shrink it, and one
            # run should show every operation that fails.
            self.failures.append(f"{case.operation.label}: {str(err)[:1500]}")

    def summary(self) -> str:
        lines = [f"{self.requests} requests; status codes {dict(sorted(self.statuses.items()))}"]
        lines += [f"  {label}: {dict(sorted(c.items()))}" for label, c in self.by_operation.items()]
        lines.append(f"  of which with a method the path does not declare: {dict(sorted(self.other_methods.items()))}")
        if self.no_invalid_input:
            lines.append(f"  no invalid request can be made for: {', '.join(self.no_invalid_input)}")
        return "\n".join(lines)


def _fuzz(strategy: Any, send: Callable[[Any], None]) -> None:
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # failures are collected, not shrunk
        suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.filter_too_much],
    )
    # A fixed seed, not derandomize=True, whose seed is a hash of the test function's source: editing
    # this file does not change the requests.
    hypothesis.seed(SEED)(settings(hypothesis.given(case=strategy)(send)))()


def _coverage(op: Any) -> Iterator[Any]:
    """Schemathesis's coverage phase for ``op`` (as its CLI and pytest plugin run it; the class is not
    public API): boundary values, missing required inputs, and each method the path does not declare."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    generation = op.schema.config.generation_for(operation=op, phase="coverage")
    yield from CoverageGenerator(
        operation=op, generation_modes=modes, generation_config=generation, auth_storage=None, override=Override(),
        feedback=FeedbackSources(),
    )


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def test_fuzzed_requests_get_documented_answers_and_never_5xx(
    app: FastAPI, uploaded: str, record_testsuite_property: Callable[[str, object], None]
) -> None:
    with TestClient(app, base_url=HOST) as client:
        document = client.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=_config(document), headers={"Host": "localhost"})
    realistic = _realistic(uploaded)
    tally = Tally()
    labels = []
    for op in _operations(schema):
        labels.append(op.label)
        pinned = realistic.get(op.label)
        positive = op.as_strategy(GenerationMode.POSITIVE)
        if pinned is not None:
            positive = positive | pinned.flatmap(lambda kw, op=op: op.as_strategy(GenerationMode.POSITIVE, **kw))
        _fuzz(positive, tally.send)
        before = tally.requests
        try:
            _fuzz(op.as_strategy(GenerationMode.NEGATIVE), tally.send)
        except Unsatisfiable:
            pass
        if tally.requests == before:
            # Nothing to make invalid: no inputs, or only a path string, which any text satisfies.
            tally.no_invalid_input.append(op.label)
        for case in _coverage(op):
            tally.send(case)

    record_testsuite_property("fuzz_requests", tally.requests)
    record_testsuite_property("fuzz_status_codes", dict(sorted(tally.statuses.items())))
    summary = tally.summary()
    print(f"schemathesis: {summary}")
    assert set(labels) >= set(realistic), f"operations renamed? pinned inputs for {sorted(set(realistic) - set(labels))}\n{summary}"
    assert not tally.failures, f"{len(tally.failures)} failed checks:\n" + "\n\n".join(tally.failures[:10]) + f"\n{summary}"
    assert not [s for s in tally.statuses if s >= 500], summary
    assert tally.requests >= MIN_REQUESTS, summary
    # Both kinds of answer were exercised: the fuzzing did reach the endpoints' real work.
    assert tally.statuses[200] >= 100 and sum(c for s, c in tally.statuses.items() if 400 <= s < 500) >= 300, summary


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_a_method_the_api_does_not_route_is_still_405_not_the_front_ends_404(app: FastAPI, method: str) -> None:
    """Found by the coverage phase: methods missing from the API's catch-all route reached the front
    end, which answered 404 "no file /api/labels here" for an endpoint that exists."""
    with TestClient(app, base_url=HOST) as client:
        r = client.request(method, "/api/labels")
    assert r.status_code == 405 and r.headers["allow"] == "GET", r.text
    assert r.json()["detail"] == f"{method} is not allowed on /api/labels; it answers GET"
