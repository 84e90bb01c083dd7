"""The HTTP API with a scripted fake model: shapes, and 4xx with details on bad input."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.api import create_app
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.settings import Settings
from tests.test_chains import GOOD_POST


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    model = FakeListChatModel(responses=[json.dumps(GOOD_POST)] * 5)
    service = DraftingService(settings=settings, model=model, index=None)
    with TestClient(create_app(service=service, mount_ui=False)) as test_client:
        yield test_client


def test_stages_lists_all_eight_with_asset_types(client: TestClient) -> None:
    stages = client.get("/stages").json()
    assert [s["id"] for s in stages][:3] == ["aware", "engage", "subscribe"]
    assert len(stages) == 8 and all(s["asset_types"] for s in stages)


def test_draft_returns_the_asset_and_metadata(client: TestClient, coffee: BusinessProfile) -> None:
    body = {"profile": coffee.model_dump(mode="json"), "stage": "aware", "channel": "instagram"}
    response = client.post("/drafts", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["asset_type"] == "social_post" and payload["asset"]["hook"] == GOOD_POST["hook"]
    assert payload["meta"]["usage"]["total_tokens"] >= 0 and payload["meta"]["prompt_id"] == "social_post"


def test_candidates_keep_the_best_and_the_others_with_their_scores(client: TestClient, coffee: BusinessProfile) -> None:
    body = {"profile": coffee.model_dump(mode="json"), "stage": "aware", "channel": "instagram", "candidates": 2}
    response = client.post("/drafts", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["evaluation"]["verdict"] in ("passed", "needs work", "failed")
    assert len(payload["alternatives"]) == 1 and payload["alternatives"][0]["evaluation"]["score"] >= 0
    too_many = client.post("/drafts", json={**body, "candidates": 9})
    assert too_many.status_code == 422


def test_unknown_stage_is_422_with_details(client: TestClient, coffee: BusinessProfile) -> None:
    response = client.post("/drafts", json={"profile": coffee.model_dump(mode="json"), "stage": "nirvana"})
    assert response.status_code == 422
    assert "Unknown stage 'nirvana'" in response.text


def test_malformed_profile_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/drafts", json={"profile": {"name": "X"}, "stage": "aware"})
    assert response.status_code == 422
    fields = {".".join(map(str, e["loc"])) for e in response.json()["details"]}
    assert "body.profile.what_it_sells" in fields


def test_junk_from_the_model_is_502_with_the_last_completion(settings: Settings, coffee: BusinessProfile) -> None:
    service = DraftingService(settings=settings, model=FakeListChatModel(responses=["junk"] * 3), index=None)
    with TestClient(create_app(service=service, mount_ui=False)) as client:
        response = client.post("/drafts", json={"profile": coffee.model_dump(mode="json"), "stage": "aware"})
    assert response.status_code == 502
    assert response.json()["details"]["last_completion"] == "junk"


def test_eval_score_returns_one_result_per_item_in_order(client: TestClient, coffee: BusinessProfile) -> None:
    items = [
        {"stage": "aware", "text": "Why your coffee tastes bitter at home: the water is too hot. Follow us for more."},
        {"stage": "promote", "text": "Give $10, get $10: you and your friend both get a bag credit."},
    ]
    response = client.post("/eval/score", json={"items": items, "profile": coffee.model_dump(mode="json")})
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["stage"] for r in results] == ["aware", "promote"]
    assert all(0 <= r["score"] <= 1 and r["criteria"] for r in results)


def test_eval_rejects_an_unknown_stage_and_reports_a_missing_classifier(client: TestClient) -> None:
    bad = client.post("/eval/score", json={"items": [{"stage": "nirvana", "text": "x"}]})
    assert bad.status_code == 422 and "stage" in bad.text
    missing = client.post("/eval/classify", json={"texts": ["Leave us a review"]})
    assert missing.status_code == 503 and "classifier" in missing.json()["error"]
