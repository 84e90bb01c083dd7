"""The profile's language (BCP 47, default English): checked, named, and the one instruction it adds to a prompt.

English is the default and is never said: an English profile dumps, hashes and prompts exactly as before the
field existed, so kits drafted before it still resume and cached answers still hit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from generator.errors import ProfileError
from generator.kit import stamp_for
from generator.language import language_name, normalise_tag
from generator.profile import BusinessProfile, profile_from_data
from generator.prompting import business_block
from generator.settings import PROJECT_ROOT, Settings

PROMPTS = PROJECT_ROOT / "prompts"


@pytest.mark.parametrize(
    ("typed", "tag"), [("en", "en"), ("ES", "es"), ("pt-br", "pt-BR"), ("zh_hant", "zh-Hant"), (" de-CH ", "de-CH"),
                       ("es-419", "es-419")],
)  # fmt: skip
def test_tags_are_normalised(typed: str, tag: str) -> None:
    assert normalise_tag(typed) == tag


@pytest.mark.parametrize("typed", ["english", "e", "es-", "es--ES", "123", "es ES"])
def test_a_tag_that_is_not_bcp47_is_refused_with_examples(typed: str, coffee: BusinessProfile) -> None:
    with pytest.raises(ProfileError, match="BCP 47"):
        profile_from_data({**coffee.model_dump(mode="json"), "language": typed})


def test_names() -> None:
    assert (language_name("es"), language_name("pt-BR"), language_name("kl")) == (
        "Spanish", "Portuguese (pt-BR)", "the language tagged kl")  # fmt: skip


def test_english_is_the_default_and_is_never_said(coffee: BusinessProfile, settings: Settings) -> None:
    assert coffee.language == "en"
    dumped = coffee.model_dump(mode="json")
    assert "language" not in dumped and "language" not in coffee.model_dump_json()
    assert "language" not in coffee.as_brief()
    # The kit's stamp hashes the dump: the same hash as a profile without the field.
    canonical = json.dumps(
        {k: v for k, v in dumped.items() if k not in ("id", "voice")}, sort_keys=True, ensure_ascii=False
    )
    stamp = stamp_for(coffee, settings, "social_post")
    assert stamp is not None and stamp.profile_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    block = business_block(PROMPTS, coffee)
    assert "Write every word" not in block and block.rstrip().endswith("</business_facts>")


def test_another_language_is_kept_and_asked_for(coffee: BusinessProfile, settings: Settings) -> None:
    spanish = profile_from_data({**coffee.model_dump(mode="json"), "language": "es"})
    assert spanish.model_dump()["language"] == "es"
    assert BusinessProfile.model_validate_json(spanish.model_dump_json()).language == "es"  # round trip
    english_block = business_block(PROMPTS, coffee)
    block = business_block(PROMPTS, spanish)
    assert block.startswith(english_block.rstrip())  # the shared prefix first, the language after it
    assert "Write every word a customer reads in Spanish" in block
    stamps = stamp_for(spanish, settings, "social_post"), stamp_for(coffee, settings, "social_post")
    assert stamps[0] is not None and stamps[1] is not None
    assert stamps[0].profile_sha256 != stamps[1].profile_sha256  # a kit in another language is redone


def test_the_language_prompt_is_a_valid_prompt_file() -> None:
    from generator.prompting import load_prompt

    prompt = load_prompt(Path(PROMPTS), "language")
    assert prompt.variables == ["language"] and prompt.version
