"""Best of N: candidates drafted at once, the eval's best kept, the rest kept beside it (fakes only)."""

from __future__ import annotations

import json
import threading
from typing import Any, cast

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import Field

from generator.assets import SocialPost
from generator.drafts import DraftRequest
from generator.evaluation.results import AssetScore, GateCheck, GateResult
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.improve import draft_best, rank
from generator.profile import BusinessProfile
from generator.settings import Settings
from tests.test_chains import GOOD_POST


class BySeed(FakeListChatModel):
    """Answers with the post for the seed the candidate was bound to."""

    posts: dict[int, dict[str, Any]]
    prompt_group: Any = None
    seeds: list[int] = Field(default_factory=list)

    def _call(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> str:
        self.seeds.append(int(kwargs.get("seed", 1)))
        return json.dumps(self.posts[int(kwargs.get("seed", 1))])


class HookScorer:
    """Scores a post by a number in its hook; 'off brief' fails the gate."""

    def score(self, subject: Subject) -> AssetScore:
        hook = subject.asset.hook if isinstance(subject.asset, SocialPost) else ""  # every candidate is a post
        value = float(hook.split()[-1]) / 10
        gate = GateResult(passed="off brief" not in hook,
                          checks=[GateCheck(id="facts", name="No invented facts", passed="off brief" not in hook,
                                            reason="checked")])  # fmt: skip
        return AssetScore(stage="aware", score=value, passed=value > 0.6 and gate.passed, threshold=0.6,
                          criteria=[], gate=gate)  # fmt: skip


def hook_scorer() -> Evaluator:
    """A HookScorer passed as the Evaluator it stands in for: score() is all that draft_best calls."""
    return cast("Evaluator", HookScorer())


def test_the_eval_picks_the_best_candidate_on_brief_first_and_keeps_the_rest(
    settings: Settings, coffee: BusinessProfile
) -> None:
    posts = {
        1: {**GOOD_POST, "hook": "A fine hook 5"},
        2: {**GOOD_POST, "hook": "An off brief hook 9"},  # the highest number, but off brief
        3: {**GOOD_POST, "hook": "The best hook 7"},
    }
    model = BySeed(responses=["{}"], posts=posts)
    best = draft_best(coffee, DraftRequest(stage="aware"), candidates=3, model=model, index=None, settings=settings,
                      evaluator=hook_scorer())  # fmt: skip
    assert best.asset["hook"] == "The best hook 7" and best.evaluation and best.evaluation.verdict == "passed"
    assert [a.seed for a in best.alternatives] == [1, 2]  # ranked: on brief before off brief
    assert best.alternatives[1].evaluation and best.alternatives[1].evaluation.verdict == "failed"
    assert rank(best) > rank(best.model_copy(update={"evaluation": None}))


def test_one_candidate_is_a_plain_scored_draft(settings: Settings, coffee: BusinessProfile) -> None:
    model = BySeed(responses=["{}"], posts={1: {**GOOD_POST, "hook": "Only hook 8"}})
    only = draft_best(coffee, DraftRequest(stage="aware"), candidates=1, model=model, index=None, settings=settings,
                      evaluator=hook_scorer())  # fmt: skip
    assert only.alternatives == [] and only.evaluation and only.evaluation.score == 0.8


def test_on_a_one_slot_server_the_candidates_go_back_to_back(settings: Settings, coffee: BusinessProfile) -> None:
    posts = {n: {**GOOD_POST, "hook": f"Brew tip {n}"} for n in (1, 2, 3)}
    model = BySeed(responses=["{}"], posts=posts, prompt_group=threading.Lock(), seeds=[])
    best = draft_best(coffee, DraftRequest(stage="aware"), candidates=3, model=model, index=None, settings=settings,
                      evaluator=hook_scorer())  # fmt: skip
    assert model.seeds == [1, 2, 3] and best.asset["hook"] == "Brew tip 3"
