"""A long-lived drafting service for the API and the UI: collaborators built once, reused per request."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from langchain_core.language_models.chat_models import BaseChatModel

from generator.chains import TextCallback, draft
from generator.drafts import Draft, DraftRequest
from generator.knowledge import KnowledgeIndex
from generator.llm import open_chat_model
from generator.profile import BusinessProfile
from generator.revision import revise
from generator.runtime import open_index, refresh_index
from generator.settings import Settings


class DraftingService:
    """Holds the settings, the index and the chat model; safe to share between request threads."""

    def __init__(self, *, settings: Settings, model: BaseChatModel, index: KnowledgeIndex | None) -> None:
        self.settings = settings
        self.model = model
        self.index = index
        self._index_lock = threading.Lock()
        self._indexed: set[str] = set()

    def _ensure_profile_indexed(self, profile: BusinessProfile) -> None:
        if self.index is None:
            return
        key = profile.model_dump_json()
        with self._index_lock:
            if key not in self._indexed:
                refresh_index(self.index, self.settings, [profile])
                self._indexed.add(key)

    def draft(self, profile: BusinessProfile, request: DraftRequest, *, on_text: TextCallback | None = None) -> Draft:
        self._ensure_profile_indexed(profile)
        return draft(profile, request, model=self.model, index=self.index, settings=self.settings, on_text=on_text)

    def revise(
        self, previous: Draft, instruction: str, *, profile: BusinessProfile | None, on_text: TextCallback | None = None
    ) -> Draft:
        return revise(previous, instruction, model=self.model, settings=self.settings, profile=profile, on_text=on_text)


@contextlib.contextmanager
def open_service(settings: Settings) -> Iterator[DraftingService]:
    """Index knowledge, start the model (the local server on demand), and stop it on exit."""
    index = open_index(settings)
    refresh_index(index, settings)
    with open_chat_model(settings) as model:
        yield DraftingService(settings=settings, model=model, index=index)
