"""The composition root: the CLI, the API and the UI get their collaborators (settings, the index, the chat
model, the evaluator) from :class:`Components`, built once at the edge. Its factories are injectable, so tests
run the front doors in-process with a fake model (``use_components``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import ValidationError

from generator.embeddings import build_embeddings
from generator.errors import ConfigError
from generator.evaluation.judge import Judge
from generator.evaluation.quality_model import train_quality_scorer
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier, train_classifier
from generator.knowledge import KnowledgeIndex, index_all, knowledge_documents
from generator.llm import open_chat_model
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.settings import Provider, Settings, load_settings
from generator.stage_router import router_for


def settings_or_error(**overrides: object) -> Settings:
    """Settings, with an invalid environment turned into a readable ConfigError."""
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"CVJ_{'_'.join(map(str, e['loc'])).upper() or 'SETTINGS'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}") from None


def open_index(settings: Settings) -> KnowledgeIndex:
    """The knowledge index with its stage router (trained from knowledge/ once, then cached)."""
    guide = knowledge_documents(settings.knowledge_dir)
    if not guide:
        raise ConfigError(
            f"The knowledge folder {settings.knowledge_dir} holds no guide files (*.md), and drafts are grounded in "
            "them; point CVJ_KNOWLEDGE_DIR (or CVJ_ROOT_DIR) at a folder like the project's knowledge/."
        )
    embeddings, embedding_id = build_embeddings(settings)
    router = router_for(
        guide,
        embeddings=embeddings,
        embedding_id=embedding_id,
        cache_dir=settings.cache_dir,
    )
    return KnowledgeIndex.open(settings, embeddings=embeddings, embedding_id=embedding_id, router=router)


def refresh_index(index: KnowledgeIndex, settings: Settings, profiles: Iterable[BusinessProfile] = ()) -> int:
    """Bring the index up to date with knowledge/ and the profiles; embeds only what changed."""
    return index_all(index, settings.knowledge_dir, profiles)


def open_classifier(settings: Settings) -> StageClassifier:
    """The stage-fit classifier (trained once per training set, then cached)."""
    embeddings, embedding_id = build_embeddings(settings)
    return train_classifier(settings, embeddings=embeddings, embedding_id=embedding_id)


def evaluator_for(settings: Settings, judge: Judge | None = None) -> Evaluator:
    """Rules, the stage classifier and the offline quality model (trained once, then cached)."""
    embeddings, embedding_id = build_embeddings(settings)
    classifier = train_classifier(settings, embeddings=embeddings, embedding_id=embedding_id)
    quality = train_quality_scorer(settings, classifier, embeddings=embeddings, embedding_id=embedding_id)
    return Evaluator(settings=settings, classifier=classifier, quality=quality, judge=judge)


def judge_choice(settings: Settings, asked: bool | None) -> tuple[bool, str]:
    """Whether to use the LLM judge, and a line that says so and why.

    By default the judge runs only where a model can judge: SmolLM2-135M scores at chance (measured), so with
    the bundled model the judged criteria are left out of the score rather than filled with noise.
    """
    if asked is False:
        return False, "Judge: off (--no-judge); judged criteria are left out of the score."
    model = settings.judge_model or settings.resolved_model
    if asked:
        return True, f"Judge: on ({model})."
    if settings.judge_model is None and settings.resolved_provider is Provider.LOCAL and settings.local_gguf is None:
        return False, (
            "Judge: off. The bundled SmolLM2-135M judges at chance, so judged criteria are left out of the score; "
            "set CVJ_JUDGE_MODEL (or use a capable model) or pass --judge to turn it on."
        )
    return True, f"Judge: on ({model}); --no-judge turns it off."


ModelFactory = Callable[[Settings], AbstractContextManager[BaseChatModel]]
IndexFactory = Callable[[Settings], KnowledgeIndex | None]
EvaluatorFactory = Callable[[Settings, Judge | None], Evaluator]


@dataclass(frozen=True)
class Components:
    """Everything a front door needs, from one place. The defaults are the real stack; tests pass a fake model
    (and no index) through the same code paths the CLI, API and UI use."""

    settings: Settings
    model_factory: ModelFactory = open_chat_model
    index_factory: IndexFactory = open_index
    evaluator_factory: EvaluatorFactory = evaluator_for

    def index(self, profiles: Iterable[BusinessProfile] = ()) -> KnowledgeIndex | None:
        """The index, up to date with knowledge/ and these profiles (None: drafting without retrieval)."""
        opened = self.index_factory(self.settings)
        if opened is not None:
            refresh_index(opened, self.settings, profiles)
        return opened

    def knowledge_index(self) -> KnowledgeIndex:
        """The index itself, for the commands that manage it (an error where these components have none)."""
        opened = self.index_factory(self.settings)
        if opened is None:
            raise ConfigError("No knowledge index is configured for this run.")
        return opened

    def model(self, settings: Settings | None = None) -> AbstractContextManager[BaseChatModel]:
        """The chat model for a block of work (the local server starts on demand and stops after)."""
        return self.model_factory(settings or self.settings)

    @contextlib.contextmanager
    def evaluator(self, *, judge: bool = False) -> Iterator[Evaluator]:
        """The evaluator and, if asked, the LLM judge (CVJ_JUDGE_MODEL), its model running for the block."""
        if not judge:
            yield self.evaluator_factory(self.settings, None)
            return
        judge_settings = self.settings.model_copy(update={"model": self.settings.judge_model or self.settings.model})
        with self.model(judge_settings) as model:
            yield self.evaluator_factory(self.settings, Judge(model, judge_settings))

    def classifier(self) -> StageClassifier:
        return open_classifier(self.settings)

    @contextlib.contextmanager
    def service(self) -> Iterator[DraftingService]:
        """A long-lived drafting service (API, UI): the index refreshed once, the model running for the block."""
        index = self.index()
        with self.model() as model:
            yield DraftingService(
                settings=self.settings,
                model=model,
                index=index,
                evaluator_factory=lambda: self.evaluator_factory(self.settings, None),
            )

    def with_settings(self, **updates: object) -> Components:
        return replace(self, settings=self.settings.model_copy(update=updates))


_installed: ContextVar[Components | None] = ContextVar("cvj_components", default=None)


def components() -> Components:
    """The installed components (tests), else the real stack from the environment's settings."""
    return _installed.get() or Components(settings_or_error())


@contextlib.contextmanager
def use_components(installed: Components) -> Iterator[Components]:
    """Run front doors on these components for the block (in-process CLI tests with a fake model)."""
    token = _installed.set(installed)
    try:
        yield installed
    finally:
        _installed.reset(token)
