"""Workspaces over HTTP: each key's businesses, documents, jobs and cache entries are its own; the limits (rate,
model slots, upload), CORS and the callback_url check. In-process (ASGI) on the fake model; the index is a real
Chroma folder with word-hash embeddings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from generator.api import create_app
from generator.drafts import DraftRequest
from generator.knowledge import KnowledgeIndex
from generator.llm_cache import SQLiteAnswerCache, cache_scope
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.settings import Settings
from generator.stages import get_stage
from generator.workspaces import parse_key_entry
from tests.fakes import SchemaFake
from tests.test_api_v1 import refused
from tests.test_retrieval import WordHashEmbeddings

A, B = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
KEYS = [SecretStr("alpha:key-a"), SecretStr("beta:key-b")]  # two workspaces: alpha and beta
SECRET = "The house blend is called Zanzibar Ember and is roasted on Tuesdays."


def retrieval_bait(profile: BusinessProfile) -> str:
    """A document made of a social post's retrieval query, so the word-hash embeddings rank it first."""
    stage, label = get_stage("aware"), DraftRequest(stage="aware", asset_type="social_post").asset_class.label
    return f"# Blend\n{stage.name} stage: {label}. {stage.purpose} For {profile.what_it_sells} {SECRET}\n"


def open_app(settings: Settings, *, model: Any = None, index: bool = True) -> TestClient:
    embeddings = WordHashEmbeddings()
    knowledge = KnowledgeIndex.open(settings, embeddings=embeddings, embedding_id="hash") if index else None
    service = DraftingService(settings=settings, model=model or SchemaFake(), index=knowledge)
    return TestClient(create_app(service=service, mount_ui=False), raise_server_exceptions=False)


@pytest.fixture
def keyed_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_keys=KEYS, knowledge_dir=tmp_path / "kn")


@pytest.fixture
def api(keyed_settings: Settings) -> Iterator[TestClient]:
    (keyed_settings.knowledge_dir).mkdir()
    (keyed_settings.knowledge_dir / "01-aware.md").write_text("---\nstages: [aware]\n---\n# Aware\nBe seen first.\n")
    SchemaFake.reset()
    with open_app(keyed_settings) as client:
        yield client


def create(client: TestClient, headers: dict[str, str], profile: BusinessProfile) -> str:
    response = client.post("/v1/businesses", json={"profile": profile.model_dump(mode="json")}, headers=headers)
    assert response.status_code == 201, response.text
    business_id = str(response.json()["id"])
    assert response.headers["Location"] == f"/v1/businesses/{business_id}"
    return business_id


def upload(client: TestClient, headers: dict[str, str], business_id: str, *files: tuple[str, bytes]) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post("/v1/knowledge", data={"business_id": business_id}, files=parts, headers=headers)


def test_key_entries_name_their_workspace() -> None:
    assert parse_key_entry("agency:s3cret").workspace == "agency"
    assert parse_key_entry("agency:s3cret").secret.get_secret_value() == "s3cret"
    bare = parse_key_entry("s3cret:with:colons")  # no valid workspace name before the first colon... it is one
    assert bare.workspace == "s3cret" and bare.secret.get_secret_value() == "with:colons"
    hashed = parse_key_entry("Tok/en+=")
    assert hashed.workspace.startswith("key-") and "Tok" not in hashed.workspace


def test_a_key_cannot_see_or_touch_another_keys_business(api: TestClient, coffee: BusinessProfile) -> None:
    mine, theirs = create(api, A, coffee), create(api, B, coffee)  # one name, two businesses
    assert mine != theirs
    assert [b["id"] for b in api.get("/v1/businesses", headers=A).json()["businesses"]] == [mine]
    for method, path in [
        ("get", f"/v1/businesses/{mine}"),
        ("put", f"/v1/businesses/{mine}"),
        ("delete", f"/v1/businesses/{mine}"),
        ("get", f"/v1/knowledge?business_id={mine}"),
        ("delete", f"/v1/knowledge/{mine}/notes.md"),
        ("get", f"/v1/search?q=blend&business_id={mine}"),
    ]:
        body = {"profile": coffee.model_dump(mode="json")} if method == "put" else None
        refused(api.request(method, path, json=body, headers=B), 404, "No business")
    refused(upload(api, B, mine, ("notes.md", b"# Notes\nmine now")), 404, "No business")
    draft = {"business_id": mine, "stage": "aware"}
    refused(api.post("/v1/drafts", json=draft, headers=B), 404, "No business")
    refused(api.post("/v1/kits", json={"business_id": mine}, headers=B), 404, "No business")
    assert api.get(f"/v1/businesses/{mine}", headers=A).json()["name"] == coffee.name


def test_documents_ground_only_their_own_business(api: TestClient, coffee: BusinessProfile) -> None:
    mine, theirs = create(api, A, coffee), create(api, B, coffee)
    uploaded = upload(api, A, mine, ("blend.md", retrieval_bait(coffee).encode()))
    assert uploaded.status_code == 201, uploaded.text
    assert [d["name"] for d in uploaded.json()["documents"]] == ["blend.md"] and uploaded.json()["failures"] == []

    found = api.get("/v1/search", params={"q": "Zanzibar Ember blend", "business_id": mine}, headers=A).json()
    assert any("Zanzibar" in hit["text"] and hit["source"].endswith("/blend.md") for hit in found["hits"])
    for params, headers in [({"business_id": theirs}, B), ({}, B), ({}, A)]:  # nobody else, nor without the id
        hits = api.get("/v1/search", params={"q": "Zanzibar Ember blend", **params}, headers=headers).json()["hits"]
        assert not any("Zanzibar" in hit["text"] for hit in hits), hits

    def prompt_after(body: dict[str, Any], headers: dict[str, str]) -> str:
        SchemaFake.reset()
        response = api.post("/v1/drafts", json={**body, "stage": "aware", "asset_type": "social_post"}, headers=headers)
        assert response.status_code == 200, response.text
        return "\n".join(SchemaFake.prompts.values())

    assert "Zanzibar" in prompt_after({"business_id": mine}, A)
    assert "Zanzibar" not in prompt_after({"business_id": theirs}, B)
    assert "Zanzibar" not in prompt_after({"profile": coffee.model_dump(mode="json")}, B)  # same name, inline
    assert "Zanzibar" not in prompt_after({"profile": coffee.model_dump(mode="json")}, A)  # inline is not the stored

    listed = api.get("/v1/knowledge", params={"business_id": mine}, headers=A).json()["documents"]
    assert [(d["name"], d["chunks"] > 0) for d in listed] == [("blend.md", True)]
    assert api.delete(f"/v1/knowledge/{mine}/blend.md", headers=A).json()["documents"] == []
    assert "Zanzibar" not in prompt_after({"business_id": mine}, A)


def test_deleting_a_business_removes_its_chunks_and_files(
    api: TestClient, keyed_settings: Settings, coffee: BusinessProfile
) -> None:
    mine = create(api, A, coffee)
    assert upload(api, A, mine, ("blend.md", SECRET.encode())).status_code == 201
    folder = keyed_settings.data_dir / "workspaces" / "alpha" / mine
    assert (folder / "blend.md").read_text() == SECRET
    assert api.delete(f"/v1/businesses/{mine}", headers=A).json()["id"] == mine
    assert not folder.exists()
    refused(api.get(f"/v1/businesses/{mine}", headers=A), 404)
    index = KnowledgeIndex.open(keyed_settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    assert index.store.get(where={"business": f"alpha--{mine}"})["ids"] == []


def test_a_broken_upload_fails_alone_and_says_why(api: TestClient, coffee: BusinessProfile) -> None:
    mine = create(api, A, coffee)
    mixed = upload(api, A, mine, ("good.md", b"# Hours\nOpen daily 7-3."), ("broken.pdf", b"%PDF-1.4 not really"),
                   ("empty.txt", b""), ("tool.exe", b"MZ"))  # fmt: skip
    assert mixed.status_code == 201, mixed.text
    assert [d["name"] for d in mixed.json()["documents"]] == ["good.md"]
    reasons = {f["name"]: f["reason"] for f in mixed.json()["failures"]}
    assert set(reasons) == {"broken.pdf", "empty.txt", "tool.exe"}
    assert "unsupported file type" in reasons["tool.exe"] and "empty" in reasons["empty.txt"]
    assert all("/" not in reason.split(":")[0] for reason in reasons.values())  # no server paths
    refused(upload(api, A, mine, ("empty.md", b"")), 422, "No document could be read")
    climbing = upload(api, A, mine, ("../../etc/passwd.md", b"# x\nx"))  # only the base name is kept
    assert [d["name"] for d in climbing.json()["documents"]] == ["passwd.md"]
    assert api.delete(f"/v1/knowledge/{mine}/passwd.md", headers=A).status_code == 200
    refused(upload(api, A, mine, (".hidden.md", b"# x\nx")), 422, "not usable")
    too_many = [(f"n{i}.md", b"# N\nx") for i in range(21)]
    refused(upload(api, A, mine, *too_many), 422, "1 to 20 files")
    assert [d["name"] for d in api.get(f"/v1/businesses/{mine}", headers=A).json()["documents"]] == ["good.md"]


def test_uploads_need_an_index(keyed_settings: Settings, coffee: BusinessProfile) -> None:
    with open_app(keyed_settings, index=False) as client:
        mine = create(client, A, coffee)
        refused(upload(client, A, mine, ("a.md", b"# A\nx")), 503, "no knowledge index")


def test_cached_answers_are_per_workspace(tmp_path: Path) -> None:
    from langchain_core.outputs import Generation

    cache = SQLiteAnswerCache(tmp_path / "cache.sqlite")
    token = cache_scope.set("alpha")
    try:
        cache.update("the prompt", "llm", [Generation(text="alpha's answer")])
        assert cache.lookup("the prompt", "llm") is not None
    finally:
        cache_scope.reset(token)
    token = cache_scope.set("beta")
    try:
        assert cache.lookup("the prompt", "llm") is None
    finally:
        cache_scope.reset(token)
    assert cache.lookup("the prompt", "llm") is None  # the CLI's scope is its own too


def test_rate_limit_is_per_key_and_spares_healthz(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", api_keys=KEYS, api_rate_limit=3)
    with open_app(settings, index=False) as client:
        assert [client.get("/v1/stages", headers=A).status_code for _ in range(3)] == [200, 200, 200]
        limited = refused(client.get("/v1/stages", headers=A), 429, "Too many requests")
        assert limited["details"]["limit_per_minute"] == 3
        assert 1 <= int(client.get("/v1/stages", headers=A).headers["Retry-After"]) <= 20
        assert client.get("/v1/stages", headers=B).status_code == 200  # B's bucket is its own
        assert all(client.get("/healthz").status_code == 200 for _ in range(10))


class BlockingModel(SchemaFake):
    """Holds every call until released, so a test can fill the model slots."""

    gate: Any = None

    def _call(self, *args: Any, **kwargs: Any) -> str:
        assert self.gate is not None
        self.gate.wait(10)
        return super()._call(*args, **kwargs)


def test_model_work_waits_for_a_slot_then_gets_429(tmp_path: Path, coffee: BusinessProfile) -> None:
    settings = Settings(data_dir=tmp_path / "d", api_model_slots=1, api_queue_timeout_s=0.3)
    gate = threading.Event()
    body = {"profile": coffee.model_dump(mode="json"), "stage": "aware", "asset_type": "social_post"}
    with open_app(settings, model=BlockingModel(gate=gate), index=False) as client:
        first: dict[str, int] = {}
        holder = threading.Thread(target=lambda: first.update(code=client.post("/v1/drafts", json=body).status_code))
        holder.start()
        time.sleep(0.5)  # the first request holds the only slot
        busy = refused(client.post("/v1/drafts", json=body), 429, "The model is busy")
        assert busy["details"]["slots"] == 1
        assert client.get("/healthz").status_code == 200 and client.get("/v1/stages").status_code == 200
        gate.set()
        holder.join(10)
        assert first["code"] == 200
        assert client.post("/v1/drafts", json=body).status_code == 200  # the slot was given back


def test_cors_answers_preflights_only_when_configured(tmp_path: Path) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    settings = Settings(
        data_dir=tmp_path / "d", api_keys=[SecretStr("k")], api_cors_origins=["https://app.example.com"]
    )
    with open_app(settings, index=False) as client:
        answer = client.options("/v1/drafts", headers=preflight)
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "Retry-After" in client.get("/v1/stages", headers={"Origin": "https://app.example.com",
               "Authorization": "Bearer k"}).headers["access-control-expose-headers"]  # fmt: skip
    with open_app(Settings(data_dir=tmp_path / "e"), index=False) as client:
        assert "access-control-allow-origin" not in client.options("/v1/drafts", headers=preflight).headers


def test_callback_urls_into_the_servers_network_are_refused(tmp_path: Path, coffee: BusinessProfile) -> None:
    body = {"profile": coffee.model_dump(mode="json"), "stages": ["aware"]}
    with open_app(Settings(data_dir=tmp_path / "d"), index=False) as client:
        for url in ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://10.1.2.3/x",
                    "http://localhost/x", "ftp://example.com/x"]:  # fmt: skip
            refused(client.post("/v1/kits", json={**body, "callback_url": url}), 422, "callback_url")
    allowed = Settings(data_dir=tmp_path / "e", webhook_hosts=["127.0.0.1"])
    with open_app(allowed, index=False) as client:
        accepted = client.post("/v1/kits", json={**body, "callback_url": "http://127.0.0.1:9/hook"})
        assert accepted.status_code == 202, accepted.text
        refused(client.post("/v1/kits", json={**body, "callback_url": "https://example.com/x"}), 422, "WEBHOOK_HOSTS")


def test_with_keys_the_ui_asks_for_one_on_its_login_page(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", api_keys=KEYS)
    service = DraftingService(settings=settings, model=SchemaFake(), index=None)
    with TestClient(create_app(service=service), raise_server_exceptions=False) as client:
        assert client.get("/v1/stages").status_code == 401  # the API still needs the header
        config = client.get("/ui/config")
        assert config.status_code == 401 or config.json().get("auth_required"), config.text[:300]
        assert client.post("/ui/login", data={"username": "me", "password": "wrong"}).status_code == 400
        assert client.post("/ui/login", data={"username": "me", "password": "key-b"}).status_code == 200
        assert client.get("/ui/config").status_code == 200  # with the login's cookie
