"""The real local stack, started once per test session: llama.cpp server, ONNX embeddings, Chroma."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI

from generator import local_llm
from generator.knowledge import KnowledgeIndex
from generator.llm import build_chat_model
from generator.runtime import open_index, refresh_index
from generator.settings import Provider, Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(provider=Provider.LOCAL, data_dir=tmp_path_factory.mktemp("cvj-data"))


@pytest.fixture(scope="session")
def local_server(stack_settings: Settings) -> Iterator[local_llm.ServerState]:
    state, _ = local_llm.start(stack_settings)
    yield state
    local_llm.stop(stack_settings)


@pytest.fixture(scope="session")
def chat_model(stack_settings: Settings, local_server: local_llm.ServerState) -> ChatOpenAI:
    return build_chat_model(stack_settings, base_url=local_server.base_url)


@pytest.fixture(scope="session")
def index(stack_settings: Settings) -> KnowledgeIndex:
    idx = open_index(stack_settings)
    refresh_index(idx, stack_settings)
    return idx


@pytest.fixture(scope="session")
def data_dir(stack_settings: Settings) -> Path:
    return stack_settings.data_dir
