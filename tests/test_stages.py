import pytest

from generator.assets import ASSET_TYPES, asset_types_for, resolve_asset_type
from generator.errors import UnknownStageError
from generator.stages import STAGE_IDS, get_stage, load_stages, parse_stage_id


def test_eight_stages_in_journey_order() -> None:
    stages = load_stages()
    assert [s.id for s in stages] == list(STAGE_IDS)
    assert [s.number for s in stages] == list(range(1, 9))
    assert all(s.purpose and s.prospect_state and s.next_step for s in stages)


@pytest.mark.parametrize("typed", ["Subscribe", " subscribe ", "SUBSCRIBE"])
def test_stage_ids_are_forgiving(typed: str) -> None:
    assert parse_stage_id(typed) == "subscribe"


def test_unknown_stage_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownStageError) as info:
        get_stage("awareness-ish")
    assert "aware, engage, subscribe" in info.value.message


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_every_stage_has_an_asset_type(stage: str) -> None:
    types = asset_types_for(stage)
    assert types and all(t.stage == stage for t in types)
    assert resolve_asset_type(stage) is types[0]


def test_unknown_asset_type_for_stage() -> None:
    with pytest.raises(UnknownStageError, match="lead_magnet"):
        resolve_asset_type("subscribe", "podcast")
    assert resolve_asset_type("subscribe", "lead-magnet").asset_type == "lead_magnet"


def test_every_asset_schema_bounds_its_strings() -> None:
    """Unbounded strings let a small model ramble until the context is full."""
    for cls in ASSET_TYPES.values():
        for name, spec in cls.model_json_schema()["properties"].items():
            if spec.get("type") == "string" and "enum" not in spec and "const" not in spec:
                assert "maxLength" in spec, f"{cls.__name__}.{name}"
            if spec.get("type") == "array":
                assert "maxItems" in spec, f"{cls.__name__}.{name}"
