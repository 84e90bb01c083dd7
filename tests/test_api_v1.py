"""The HTTP API v1 with a scripted fake model: every route's success shape, the event stream, API keys, the
OpenAPI document, and every error in one shape ``{error, details}``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from generator import api_models
from generator.api import create_app
from generator.api_errors import INTERNAL_ERROR, MAX_BODY_BYTES, RETRY_AFTER_S
from generator.api_kits import KitsBody
from generator.api_voice import AuditBody, VoiceBody
from generator.drafts import Draft
from generator.errors import ModelUnavailableError
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageFit
from generator.knowledge import Hit, KnowledgeIndex
from generator.profile import BusinessProfile
from generator.runtime import Components, use_components
from generator.service import DraftingService
from generator.settings import Settings
from tests.test_chains import GOOD_POST

KEYS = ["key-one-0123456789", "key-two-0123456789"]
V1_ROUTES = {
    ("post", "/v1/drafts"),
    ("post", "/v1/drafts:stream"),
    ("post", "/v1/revisions"),
    ("post", "/v1/score"),
    ("post", "/v1/classify"),
    ("get", "/v1/search"),
    ("get", "/v1/stages"),
    ("post", "/v1/businesses"),
    ("get", "/v1/businesses"),
    ("get", "/v1/businesses/{business_id}"),
    ("put", "/v1/businesses/{business_id}"),
    ("delete", "/v1/businesses/{business_id}"),
    ("post", "/v1/knowledge"),
    ("get", "/v1/knowledge"),
    ("delete", "/v1/knowledge/{business_id}/{name}"),
    ("post", "/v1/kits"),
    ("get", "/v1/kits"),
    ("get", "/v1/kits/{job_id}"),
    ("get", "/v1/kits/{job_id}/download"),
    ("delete", "/v1/kits/{job_id}"),
    ("post", "/v1/voice"),
    ("post", "/v1/audit"),
}
POST_BODIES: dict[str, type[BaseModel]] = {
    "/v1/drafts": api_models.DraftsBody,
    "/v1/drafts:stream": api_models.DraftStreamBody,
    "/v1/revisions": api_models.RevisionBody,
    "/v1/score": api_models.ScoreBody,
    "/v1/classify": api_models.ClassifyBody,
    "/v1/businesses": api_models.BusinessBody,
    "/v1/kits": KitsBody,
    "/v1/voice": VoiceBody,
    "/v1/audit": AuditBody,
}


def fake_model(*answers: str) -> FakeListChatModel:
    return FakeListChatModel(responses=list(answers or [json.dumps(GOOD_POST)]))


class FakeClassifier:
    def classify(self, texts: list[str]) -> list[StageFit]:
        return [StageFit(stage="promote", confidence=0.9, scores={"promote": 0.9, "advocate": 0.1}) for _ in texts]


class FakeIndex:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def search(self, query: str, **options: Any) -> list[Hit]:
        self.asked.append({"query": query, **options})
        return [Hit(text="Ask for a review right after a good visit.", source="07-advocate.md", stage="advocate",
                    kind="method", score=0.82)]  # fmt: skip


def make_client(
    settings: Settings, *, model: BaseChatModel | None = None, service: DraftingService | None = None
) -> TestClient:
    service = service or DraftingService(settings=settings, model=model or fake_model(), index=None)
    return TestClient(create_app(service=service, mount_ui=False), raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings) as test_client:
        yield test_client


@pytest.fixture
def body(coffee: BusinessProfile) -> dict[str, Any]:
    return {"profile": coffee.model_dump(mode="json"), "stage": "aware", "channel": "instagram"}


def refused(response: Any, status: int, expected: str = "") -> dict[str, Any]:
    """An error in the one shape: ``{error, details}``, the error naming the problem."""
    assert response.status_code == status, response.text[:2_000]
    payload = response.json()
    assert set(payload) == {"error", "details"} and isinstance(payload["error"], str), payload
    assert expected in payload["error"], payload["error"]
    return cast(dict[str, Any], payload)


def events(text: str) -> list[tuple[str, Any]]:
    """A text/event-stream parsed: (event, JSON data) in order; comments skipped."""
    parsed = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if fields:
            parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


# --- every route's success shape -----------------------------------------------------------------------------


def test_healthz_and_stages(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    stages = client.get("/v1/stages").json()["stages"]
    assert [s["id"] for s in stages][:2] == ["aware", "engage"] and len(stages) == 8
    assert all(s["asset_types"] and s["purpose"] for s in stages)


def test_one_draft_comes_in_the_envelope_scored(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/v1/drafts", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"drafts", "versions", "reached_min_score"}
    (drafted,) = payload["drafts"]
    assert Draft.model_validate(drafted).asset["hook"] == GOOD_POST["hook"]
    assert drafted["evaluation"]["verdict"] in ("passed", "needs work", "failed")
    assert payload["versions"] == 1 and payload["reached_min_score"] is None


def test_variants_are_a_list_of_scored_drafts(client: TestClient, body: dict[str, Any]) -> None:
    payload = client.post("/v1/drafts", json={**body, "variants": 2}).json()
    assert [d["variant"] for d in payload["drafts"]] == [1, 2]
    assert all(d["evaluation"]["score"] >= 0 for d in payload["drafts"])


def test_candidates_keep_the_best_with_the_others(client: TestClient, body: dict[str, Any]) -> None:
    (best,) = client.post("/v1/drafts", json={**body, "candidates": 2}).json()["drafts"]
    assert len(best["alternatives"]) == 1 and best["alternatives"][0]["evaluation"]["score"] >= 0


def test_min_score_revises_within_the_budget(client: TestClient, body: dict[str, Any]) -> None:
    reached = client.post("/v1/drafts", json={**body, "min_score": 0.5}).json()
    assert reached["versions"] == 1 and reached["reached_min_score"] is True
    banned = {**body["profile"], "brand_voice": {"words_to_avoid": ["beans"]}}  # the fake's every answer has it
    payload = client.post("/v1/drafts", json={**body, "profile": banned, "min_score": 0.5, "max_revisions": 1}).json()
    assert payload["versions"] == 2 and payload["reached_min_score"] is False
    assert payload["drafts"][0]["evaluation"]["passed"] is False


def test_variants_exclude_candidates_and_min_score(client: TestClient, body: dict[str, Any]) -> None:
    for option in ({"candidates": 2}, {"min_score": 0.5}):
        refused(client.post("/v1/drafts", json={**body, "variants": 2, **option}), 422, "drop variants")


def test_revision_is_the_next_version_scored(client: TestClient, body: dict[str, Any]) -> None:
    (drafted,) = client.post("/v1/drafts", json=body).json()["drafts"]
    response = client.post(
        "/v1/revisions", json={"draft": drafted, "instruction": "shorter", "profile": body["profile"]}
    )
    assert response.status_code == 200, response.text
    revised = response.json()
    assert revised["version"] == 2 and revised["revisions"] == ["shorter"] and revised["evaluation"] is not None
    other = {**body["profile"], "name": "Brightpath Physio"}
    refused(client.post("/v1/revisions", json={"draft": drafted, "instruction": "x", "profile": other}), 422,
            "not for 'Brightpath Physio'")  # fmt: skip
    refused(client.post("/v1/revisions", json={"draft": drafted, "instruction": "  "}), 422, "say what to change")
    refused(client.post("/v1/revisions", json={"draft": {"hook": "hi"}, "instruction": "x"}), 422, "body.draft")


def test_score_returns_one_result_per_item(client: TestClient, coffee: BusinessProfile) -> None:
    items = [{"stage": "aware", "text": "Why your coffee tastes bitter at home. Follow us for more."},
             {"stage": "promote", "text": "Give $10, get $10: you and your friend both get a bag credit."}]  # fmt: skip
    payload = client.post("/v1/score", json={"items": items, "profile": coffee.model_dump(mode="json")}).json()
    assert [r["stage"] for r in payload["results"]] == ["aware", "promote"]
    assert all(0 <= r["score"] <= 1 and r["criteria"] for r in payload["results"])


def test_classify_with_and_without_a_classifier(client: TestClient, settings: Settings) -> None:
    missing = refused(client.post("/v1/classify", json={"texts": ["Leave us a review"]}), 503, "classifier")
    assert missing["details"] is None
    evaluator = Evaluator(settings=settings, classifier=cast(Any, FakeClassifier()))
    service = DraftingService(settings=settings, model=fake_model(), index=None, evaluator_factory=lambda: evaluator)
    with make_client(settings, service=service) as with_classifier:
        payload = with_classifier.post("/v1/classify", json={"texts": ["Share your code", "Tell a friend"]}).json()
    assert [r["stage"] for r in payload["results"]] == ["promote", "promote"]


def test_search_uses_the_service_index(settings: Settings, client: TestClient) -> None:
    refused(client.get("/v1/search", params={"q": "reviews"}), 503, "no knowledge index")
    index = FakeIndex()
    service = DraftingService(settings=settings, model=fake_model(), index=cast(KnowledgeIndex, index))
    with make_client(settings, service=service) as searching:
        response = searching.get("/v1/search", params={"q": "reviews", "stage": "advocate", "k": 3})
        assert response.status_code == 200, response.text
        assert response.json()["hits"][0]["source"] == "07-advocate.md" and response.json()["stage"] == "advocate"
        assert index.asked == [{"query": "reviews", "k": 3, "stage": "advocate", "kind": "method"}]  # no business's
        refused(searching.get("/v1/search", params={"q": "x", "business_id": "b-000000000000"}), 404, "No business")
        refused(searching.get("/v1/search", params={"q": "x", "business_id": "acme"}), 422, "query.business_id")
        refused(searching.get("/v1/search", params={"q": "x", "stage": "nirvana"}), 422, "query.stage")
        refused(searching.get("/v1/search", params={"q": "x", "k": 51}), 422, "query.k")
        refused(searching.get("/v1/search"), 422, "query.q: Field required")


# --- the event stream ----------------------------------------------------------------------------------------


def test_stream_sends_tokens_then_the_scored_draft(client: TestClient, body: dict[str, Any]) -> None:
    with client.stream("POST", "/v1/drafts:stream", json=body) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.read().decode())
    names = [name for name, _ in stream]
    assert names[-1] == "draft" and set(names[:-1]) == {"token"} and len(names) > 2
    assert json.loads("".join(data["text"] for name, data in stream if name == "token")) == GOOD_POST
    drafted = Draft.model_validate(stream[-1][1])
    assert drafted.asset["hook"] == GOOD_POST["hook"] and drafted.evaluation is not None


def test_stream_ends_with_an_error_event_when_the_model_fails(settings: Settings, body: dict[str, Any]) -> None:
    with make_client(settings, model=fake_model("junk")) as junk:
        stream = events(junk.post("/v1/drafts:stream", json=body).text)
    assert stream[0][0] == "token" and stream[-1][0] == "error"
    assert set(stream[-1][1]) == {"error", "details"} and stream[-1][1]["details"]["last_completion"] == "junk"


def test_stream_hides_an_unexpected_error(settings: Settings, body: dict[str, Any]) -> None:
    class Broken(DraftingService):
        def draft(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret internals")

    with make_client(settings, service=Broken(settings=settings, model=fake_model(), index=None)) as broken:
        stream = events(broken.post("/v1/drafts:stream", json=body).text)
    assert stream == [("error", {"error": INTERNAL_ERROR, "details": None})]


def test_stream_refuses_an_invalid_request_before_streaming(client: TestClient, body: dict[str, Any]) -> None:
    refused(client.post("/v1/drafts:stream", json={**body, "stage": "nirvana"}), 422, "Unknown stage 'nirvana'")
    refused(client.post("/v1/drafts:stream", json={**body, "variants": 2}), 422, "variants: Extra inputs")


# --- API keys ------------------------------------------------------------------------------------------------


@pytest.fixture
def keyed(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings.model_copy(update={"api_keys": [SecretStr(k) for k in KEYS]})) as test_client:
        yield test_client


def every_route(body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    meta = {"prompt_id": "social_post", "prompt_version": "1", "provider": "fake", "model": "fake"}
    draft = {"business": "Harbor Lane Coffee", "stage": "aware", "asset_type": "social_post", "asset": GOOD_POST,
             "meta": meta}  # fmt: skip
    return [
        ("POST", "/v1/drafts", body),
        ("POST", "/v1/drafts:stream", body),
        ("POST", "/v1/revisions", {"draft": draft, "instruction": "shorter"}),
        ("POST", "/v1/score", {"items": [{"stage": "aware", "text": "Follow us for weekly brew tips."}]}),
        ("POST", "/v1/classify", {"texts": ["Leave us a review"]}),
        ("GET", "/v1/search?q=reviews", None),
        ("GET", "/v1/stages", None),
        ("GET", "/health", None),
        ("GET", "/stages", None),
        ("POST", "/drafts", body),
        ("POST", "/eval/score", {"items": [{"stage": "aware", "text": "Follow us for weekly brew tips."}]}),
        ("POST", "/eval/classify", {"texts": ["Leave us a review"]}),
        ("GET", "/nope", None),
    ]


WRONG_AUTHORIZATION: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {KEYS[0]}x"},
    {"Authorization": f"Basic {KEYS[0]}"},
    {"Authorization": "Bearer "},
]


def test_every_route_needs_a_key(keyed: TestClient, body: dict[str, Any]) -> None:
    for method, path, payload in every_route(body):
        for headers in WRONG_AUTHORIZATION:
            response = keyed.request(method, path, json=payload, headers=headers)
            refused(response, 401, "Bearer <key>")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
        ok = keyed.request(method, path, json=payload, headers={"Authorization": f"Bearer {KEYS[1]}"})
        expected = {"/nope": 404, "/v1/search?q=reviews": 503, "/v1/classify": 503, "/eval/classify": 503}
        assert ok.status_code == expected.get(path, 200), (method, path, ok.text[:500])


def test_healthz_and_public_docs_need_no_key(keyed: TestClient, settings: Settings) -> None:
    for path in ("/healthz", "/docs", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path
    assert keyed.get("/v1/stages", headers={"authorization": f"bearer {KEYS[0]}"}).status_code == 200
    private = settings.model_copy(update={"api_keys": [SecretStr(KEYS[0])], "api_docs_public": False})
    with make_client(private) as closed:
        assert closed.get("/healthz").status_code == 200
        for path in ("/docs", "/openapi.json"):
            refused(closed.get(path), 401)
            assert closed.get(path, headers={"Authorization": f"Bearer {KEYS[0]}"}).status_code == 200


def test_keys_come_from_the_environment_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVJ_API_KEYS", f" {KEYS[0]}, ,{KEYS[1]} ")
    assert [k.get_secret_value() for k in Settings().api_keys] == KEYS
    monkeypatch.setenv("CVJ_API_DOCS_PUBLIC", "false")
    assert Settings().api_docs_public is False


@pytest.mark.parametrize(
    ("host", "keys", "expected", "unexpected"),
    [("0.0.0.0", [], "Warning: no API keys", "API keys:"),
     ("127.0.0.1", [], "CVJ Kit API on", "Warning"),
     ("0.0.0.0", KEYS[:1], "API keys: 1 configured", "Warning")],
)  # fmt: skip
def test_serve_warns_when_open_beyond_this_machine(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, host: str, keys: list[str], expected: str, unexpected: str
) -> None:
    import uvicorn

    import generator.api
    from generator.cli import app

    served: list[str] = []
    monkeypatch.setattr(generator.api, "create_app", lambda parts, mount_ui=True: "app")
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, log_level: served.append(host))
    with use_components(Components(settings.model_copy(update={"api_keys": [SecretStr(k) for k in keys]}))):
        result = CliRunner().invoke(app, ["serve", "--host", host])
    assert result.exit_code == 0 and served == [host], result.output
    assert expected in result.stderr and unexpected not in result.stderr


# --- the OpenAPI document ------------------------------------------------------------------------------------


def test_openapi_lists_every_v1_route_with_schemas_and_examples(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listed = {(method, path) for path, ops in document["paths"].items() for method in ops if path.startswith("/v1")}
    assert listed == V1_ROUTES
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for method, path in V1_ROUTES:
        operation = document["paths"][path][method]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        ok = operation["responses"][success]["content"]
        assert all(media["schema"] for media in ok.values()), path
        assert {"401", "422", "500"} <= set(operation["responses"]), path
        assert operation["security"] == [{"HTTPBearer": []}], path
        error_schema = operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
        assert error_schema.endswith("/ErrorBody"), path
        if method == "post" and path == "/v1/knowledge":
            assert "multipart/form-data" in operation["requestBody"]["content"]
        elif method == "post":
            content = operation["requestBody"]["content"]["application/json"]
            assert content["schema"]["$ref"].endswith(POST_BODIES[path].__name__), path
            assert content["examples"], path
            for example in content["examples"].values():
                POST_BODIES[path].model_validate(example["value"])
    assert "security" not in document["paths"]["/healthz"]["get"]
    legacy = [document["paths"][p] for p in ("/health", "/stages", "/drafts", "/eval/score", "/eval/classify")]
    assert all(op.get("deprecated") for ops in legacy for op in ops.values())


def test_legacy_routes_answer_as_before_and_say_they_are_deprecated(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/drafts", json=body)
    assert response.status_code == 200 and response.headers["Deprecation"] == "true"
    assert response.headers["Link"] == '</v1/drafts>; rel="successor-version"'
    assert response.json()["asset"]["hook"] == GOOD_POST["hook"]
    assert client.get("/health").json() == {"status": "ok"} and len(client.get("/stages").json()) == 8


# --- errors in one shape -------------------------------------------------------------------------------------


def test_errors_have_one_shape(client: TestClient, body: dict[str, Any]) -> None:
    refused(client.get("/v1/nope"), 404, "Not found: /v1/nope")
    not_allowed = refused(client.delete("/v1/drafts"), 405, "DELETE is not allowed on /v1/drafts")
    assert not_allowed is not None and client.delete("/v1/drafts").headers["allow"] == "POST"
    big = b'{"stage": "aware", "instructions": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    refused(client.post("/v1/drafts", content=big, headers={"content-type": "application/json"}), 413, "10 MiB")
    invalid = refused(client.post("/v1/drafts", json={"profile": {"name": "X"}, "stage": "aware"}), 422)
    assert "body.profile.what_it_sells" in {".".join(map(str, e["loc"])) for e in invalid["details"]}
    refused(client.post("/v1/drafts", json={**body, "stage": "nirvana"}), 422, "Unknown stage 'nirvana'")


def test_model_failures_are_502_503_and_500(settings: Settings, body: dict[str, Any]) -> None:
    with make_client(settings, model=fake_model("junk")) as junk:
        assert refused(junk.post("/v1/drafts", json=body), 502)["details"]["last_completion"] == "junk"

    class Down(DraftingService):
        def draft_best(self, *args: Any, **kwargs: Any) -> Any:
            raise ModelUnavailableError("The chat model could not be reached (Connection error).")

    with make_client(settings, service=Down(settings=settings, model=fake_model(), index=None)) as down:
        response = down.post("/v1/drafts", json=body)
    refused(response, 503, "could not be reached")
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)

    class Broken(DraftingService):
        def draft_best(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret internals /etc/passwd")

    with make_client(settings, service=Broken(settings=settings, model=fake_model(), index=None)) as broken:
        response = broken.post("/v1/drafts", json=body)
    assert refused(response, 500) == {"error": INTERNAL_ERROR, "details": None} and "secret" not in response.text
