"""The OpenAPI document holds: a bounded schemathesis run against a real uvicorn server (the fake model, keys on)
sends generated valid and invalid requests to every operation and checks that none answers 5xx, every answer
matches its documented status, content type, headers and schema."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as run_settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Ok

from generator.api import create_app
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier
from generator.knowledge import KnowledgeIndex
from generator.service import DraftingService
from generator.settings import Settings
from tests.fakes import SchemaFake
from tests.test_api_v1 import FakeClassifier
from tests.test_retrieval import WordHashEmbeddings
from tests.uvicorn_thread import serving

pytestmark = pytest.mark.loopback
KEY = "schema-key"
EXAMPLES_PER_OPERATION = 10  # x 26 operations x 2 modes: about a minute on 2 cores
STATUSES: Counter[str] = Counter()
# Every answer: never a 5xx; its status, content type, headers and body as documented. Not "every schema-valid
# request is accepted": some rules are not JSON Schema (an asset type belongs to its stage), and those get a 422.
# Valid requests, and requests that break the schema. Not checked: that every schema-breaking request is refused
# (unknown query parameters are ignored, as FastAPI does, rather than refused).
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]  # fmt: skip


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    data = Path(tmp_path_factory.mktemp("schema")) / "data"
    settings = Settings(data_dir=data, api_keys=[SecretStr(f"fuzz:{KEY}")], api_rate_limit=0, llm_cache=False)
    index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    classifier = cast(StageClassifier, FakeClassifier())
    evaluator = Evaluator(settings=settings, classifier=classifier)
    service = DraftingService(settings=settings, model=SchemaFake(), index=index, evaluator_factory=lambda: evaluator)
    with serving(create_app(service=service, mount_ui=False)) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")
    print(f"\nschemathesis: {sum(STATUSES.values())} requests; by status: {dict(sorted(STATUSES.items()))}")


def failure_of(operation: schemathesis.APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> str | None:
    """What is wrong with this operation's answers to generated requests of this mode (None: nothing)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @run_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases every run: a failure here is reproducible, never a flake
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def conforms(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS)
        STATUSES[f"{mode.value} {response.status_code}"] += 1

    try:
        conforms()
    except Unsatisfiable:  # nothing about this operation can break its schema (GET /healthz takes no input)
        return None
    except Exception as exc:
        return f"{operation.label} ({mode.value} data): {exc}"
    return None


def test_every_operation_matches_its_schema(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) >= 20
    failures = [found for op, mode in itertools.product(operations, MODES) if (found := failure_of(op, mode))]
    assert not failures, "\n\n".join(failures)
