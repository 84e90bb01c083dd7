"""A long-lived drafting service for the API and the UI: collaborators built once, reused per request
(``Components.service()`` opens one)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable

from langchain_core.language_models.chat_models import BaseChatModel

from generator.chains import draft
from generator.drafts import Draft, DraftRequest
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.improve import draft_best, score_draft
from generator.knowledge import KnowledgeIndex, index_all
from generator.profile import BusinessProfile
from generator.revision import revise
from generator.settings import Settings
from generator.structured import TextCallback


class DraftingService:
    """Holds the settings, the index, the chat model and (built on first use) the evaluator; safe to share
    between request threads."""

    def __init__(
        self,
        *,
        settings: Settings,
        model: BaseChatModel,
        index: KnowledgeIndex | None,
        evaluator_factory: Callable[[], Evaluator] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.index = index
        self._index_lock = threading.Lock()
        self._indexed: set[str] = set()
        self._evaluator_factory = evaluator_factory
        self._evaluator: Evaluator | None = None
        self._evaluator_lock = threading.Lock()

    def evaluator(self) -> Evaluator:
        """The evaluator (rules, stage fit, offline quality model), built once: seconds once cached."""
        with self._evaluator_lock:
            if self._evaluator is None:
                factory = self._evaluator_factory or (lambda: Evaluator(settings=self.settings))
                self._evaluator = factory()
            return self._evaluator

    def score(self, subjects: list[Subject]) -> list[AssetScore]:
        return self.evaluator().score_many(subjects)

    def score_draft(self, result: Draft, profile: BusinessProfile | None) -> AssetScore:
        return score_draft(self.evaluator(), result, profile)

    def ensure_indexed(self, profile: BusinessProfile) -> None:
        """Index this profile's facts once per service (drafts retrieve them)."""
        if self.index is None:
            return
        key = profile.model_dump_json()
        with self._index_lock:
            if key not in self._indexed:
                index_all(self.index, self.settings.knowledge_dir, [profile])
                self._indexed.add(key)

    def draft(self, profile: BusinessProfile, request: DraftRequest, *, on_text: TextCallback | None = None) -> Draft:
        self.ensure_indexed(profile)
        return draft(profile, request, model=self.model, index=self.index, settings=self.settings, on_text=on_text)

    def draft_best(self, profile: BusinessProfile, request: DraftRequest, *, candidates: int) -> Draft:
        """N candidates at once, scored; the best is returned with the others in its ``alternatives``."""
        self.ensure_indexed(profile)
        return draft_best(profile, request, candidates=candidates, model=self.model, index=self.index,
                          settings=self.settings, evaluator=self.evaluator())  # fmt: skip

    def revise(
        self, previous: Draft, instruction: str, *, profile: BusinessProfile | None, on_text: TextCallback | None = None
    ) -> Draft:
        return revise(previous, instruction, model=self.model, settings=self.settings, profile=profile, on_text=on_text)


class ServiceKitParts:
    """The service as a kit-job runner's collaborators (``generator.jobs.KitCollaborators``): the API's kit jobs
    share its model, index and evaluator instead of opening their own (one Chroma client and one model lease per
    process)."""

    def __init__(self, service: DraftingService) -> None:
        self.service = service

    @property
    def settings(self) -> Settings:
        return self.service.settings

    def model(self) -> contextlib.AbstractContextManager[BaseChatModel]:
        return contextlib.nullcontext(self.service.model)

    def evaluator(self) -> contextlib.AbstractContextManager[Evaluator]:
        return contextlib.nullcontext(self.service.evaluator())

    def index(self, profiles: Iterable[BusinessProfile], /) -> KnowledgeIndex | None:
        for profile in profiles:
            self.service.ensure_indexed(profile)
        return self.service.index
