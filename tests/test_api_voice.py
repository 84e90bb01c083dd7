"""The voice and audit routes (in-process, the fake model and a fake stage classifier)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from fastapi.testclient import TestClient

from generator.api import create_app
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.settings import Settings
from tests.fakes import SchemaFake
from tests.test_api_v1 import FakeClassifier, refused
from tests.test_api_workspaces import KEYS, A, B

SAMPLES = [
    "We roast on Tuesdays. Come by, grab a cup, tell us what you think - we're always tinkering with something new.",
    "New beans just landed! Ethiopian, bright and fruity. We're a little obsessed, honestly, and you'll see why.",
    "Your kettle's too hot. Let it sit thirty seconds. Trust us, you'll taste the difference in your first sip.",
]


def client_for(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "d", api_keys=KEYS)
    evaluator = Evaluator(settings=settings, classifier=cast(StageClassifier, FakeClassifier()))
    service = DraftingService(settings=settings, model=SchemaFake(), index=None, evaluator_factory=lambda: evaluator)
    return TestClient(create_app(service=service, mount_ui=False), raise_server_exceptions=False)


def test_a_voice_is_learned_and_kept_on_the_business(tmp_path: Path, coffee: BusinessProfile) -> None:
    with client_for(tmp_path) as client:
        learned = client.post("/v1/voice", json={"texts": SAMPLES}, headers=A)
        assert learned.status_code == 200, learned.text
        assert learned.json()["voice"]["description"] and learned.json()["business"] is None
        business = client.post("/v1/businesses", json={"profile": coffee.model_dump(mode="json")}, headers=A).json()
        kept = client.post("/v1/voice", json={"texts": SAMPLES, "business_id": business["id"]}, headers=A).json()
        assert kept["business"]["profile"]["voice"]["exemplars"]
        stored = client.get(f"/v1/businesses/{business['id']}", headers=A).json()
        assert stored["profile"]["voice"] == kept["voice"]
        refused(client.post("/v1/voice", json={"texts": SAMPLES, "business_id": business["id"]}, headers=B), 404)
        refused(client.post("/v1/voice", json={"texts": SAMPLES[:2]}, headers=A), 422, "body.texts")


def test_an_audit_maps_existing_copy_onto_the_journey(tmp_path: Path, coffee: BusinessProfile) -> None:
    documents = [{"source": "referral page", "text": "Give $10, get $10: share your code and you both save."},
                 {"source": "promo", "text": "Bring a friend to the café and you both get a free pastry."}]  # fmt: skip
    body = {"profile": coffee.model_dump(mode="json"), "documents": documents}
    with client_for(tmp_path) as client:
        report = client.post("/v1/audit", json=body, headers=A)
        assert report.status_code == 200, report.text
        stages = {s["stage"]: s["status"] for s in report.json()["stages"]}
        assert stages["promote"] != "missing" and stages["aware"] == "missing"  # the fake says "promote" for all
        assert len(report.json()["draft_first"]) == 3
        page = client.post("/v1/audit", params={"format": "html"}, json=body, headers=A)
        assert page.headers["content-type"].startswith("text/html") and "referral page" in page.text
        refused(client.post("/v1/audit", json={"documents": documents}, headers=A), 422, "send the business")
