"""Building the collaborators once, at the edge (CLI, API, UI): settings, index, model."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from generator.embeddings import build_embeddings
from generator.errors import ConfigError
from generator.knowledge import KnowledgeIndex, index_all
from generator.profile import BusinessProfile
from generator.settings import Settings, load_settings


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
    embeddings, embedding_id = build_embeddings(settings)
    return KnowledgeIndex.open(settings, embeddings=embeddings, embedding_id=embedding_id)


def refresh_index(index: KnowledgeIndex, settings: Settings, profiles: Iterable[BusinessProfile] = ()) -> int:
    """Bring the index up to date with knowledge/ and the profiles; embeds only what changed."""
    return index_all(index, settings.knowledge_dir, profiles)
