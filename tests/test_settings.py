from pathlib import Path

import pytest
from pydantic import SecretStr

from generator.errors import ConfigError
from generator.runtime import settings_or_error
from generator.settings import Provider, Settings


def test_local_is_the_default_without_a_key() -> None:
    s = Settings()
    assert s.resolved_provider is Provider.LOCAL
    assert s.resolved_model == "smollm2-135m-instruct"


def test_openai_is_picked_when_a_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    s = Settings()
    assert s.resolved_provider is Provider.OPENAI
    assert s.resolved_model == "gpt-4o-mini"
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-test"


def test_env_prefix_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CVJ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CVJ_MAX_OUTPUT_TOKENS", "123")
    s = Settings()
    assert s.index_dir == tmp_path / "index"
    assert s.max_output_tokens == 123


def test_openai_compatible_needs_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVJ_PROVIDER", "openai-compatible")
    with pytest.raises(ConfigError, match="CVJ_BASE_URL"):
        settings_or_error()
    monkeypatch.setenv("CVJ_BASE_URL", "http://127.0.0.1:11434/v1")
    assert settings_or_error().resolved_model == "llama3.1:8b"


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVJ_TEMPERATURE", "hot")
    with pytest.raises(ConfigError, match="CVJ_TEMPERATURE"):
        settings_or_error()


def test_local_grammar_schemas_clamp_long_strings() -> None:
    """llama.cpp's grammar parser crashes the server on very long maxLength strings."""
    from generator.assets import ASSET_TYPES
    from generator.llm import GRAMMAR_MAX_LENGTH, response_format

    fmt = response_format(Settings(provider=Provider.LOCAL), ASSET_TYPES["ascension_offer"])
    assert fmt["type"] == "json_object"
    lengths = [p.get("maxLength", 0) for p in fmt["schema"]["properties"].values()]
    assert max(lengths) == GRAMMAR_MAX_LENGTH
    assert (
        ASSET_TYPES["ascension_offer"].model_json_schema()["properties"]["page_copy"]["maxLength"] > GRAMMAR_MAX_LENGTH
    )
    openai_fmt = response_format(
        Settings(provider=Provider.OPENAI, api_key=SecretStr("sk-x")), ASSET_TYPES["ascension_offer"]
    )
    assert openai_fmt["type"] == "json_schema"


def test_cache_key_ignores_the_local_servers_port(tmp_path: Path) -> None:
    """The local server gets a new port each run; an identical rerun must still hit the cache."""
    from generator.llm import build_chat_model

    local = Settings(provider=Provider.LOCAL, data_dir=tmp_path)
    first = build_chat_model(local, base_url="http://127.0.0.1:5001/v1")
    second = build_chat_model(local, base_url="http://127.0.0.1:5002/v1")
    assert first._get_llm_string() == second._get_llm_string()
    assert first.cache is not None and (tmp_path / "llm-cache.sqlite").exists()
    remote = Settings(provider=Provider.OPENAI_COMPATIBLE, base_url="http://127.0.0.1:1/v1", data_dir=tmp_path)
    assert "127.0.0.1:1" in build_chat_model(remote)._get_llm_string()
    assert build_chat_model(Settings(provider=Provider.LOCAL, data_dir=tmp_path, llm_cache=False)).cache is None


def test_bundled_model_grammar_leaves_figures_to_the_profile(tmp_path: Path) -> None:
    """The 135M model invents every price and percentage it writes: its copy fields cannot hold digits or
    currency signs, while a model the user chose (and a numeric field such as a proposed price) keeps them."""
    import re

    from generator.assets import ASSET_TYPES
    from generator.llm import response_format

    entry = ASSET_TYPES["entry_offer"]

    def pattern(settings: Settings, field: str) -> re.Pattern[str]:
        return re.compile(response_format(settings, entry)["schema"]["properties"][field]["pattern"])

    bundled = Settings(provider=Provider.LOCAL)
    assert bundled.allow_copy_figures is False
    assert pattern(bundled, "time_commitment").match("Ten minutes at the counter")
    for invented in ("128.60", "Save $30 today", "20% off", "#46 - a great day"):
        assert not pattern(bundled, "value_framing").match(invented), invented
    price = response_format(bundled, entry)["schema"]["properties"]["price"]
    assert "pattern" not in price and price.get("type") in ("number", "integer", None)

    for chosen in (
        Settings(provider=Provider.LOCAL, local_gguf=tmp_path / "qwen-7b.gguf"),
        Settings(copy_figures="on"),
    ):
        assert chosen.allow_copy_figures is True
        assert pattern(chosen, "value_framing").match("Worth 30 USD in beans, yours for 12 USD")
