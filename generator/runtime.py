"""Building the collaborators once, at the edge (CLI, API, UI): settings, index, model."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

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
    embeddings, embedding_id = build_embeddings(settings)
    router = router_for(
        knowledge_documents(settings.knowledge_dir),
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


@contextlib.contextmanager
def open_evaluator(settings: Settings, *, judge: bool) -> Iterator[Evaluator]:
    """The evaluator and, if asked, the LLM judge (CVJ_JUDGE_MODEL), its model running for the block."""
    if not judge:
        yield evaluator_for(settings)
        return
    judge_settings = settings.model_copy(update={"model": settings.judge_model or settings.model})
    with open_chat_model(judge_settings) as model:
        yield evaluator_for(settings, Judge(model, judge_settings))
