import json
from pathlib import Path

import pytest

from generator.errors import ProfileError
from generator.profile import MAX_PROFILE_BYTES, load_profile, parse_profile_text
from generator.settings import PROJECT_ROOT
from tests.conftest import EXAMPLES


def test_three_examples_of_different_kinds_load() -> None:
    profiles = [load_profile(p) for p in EXAMPLES]
    assert len(profiles) >= 3
    assert len({p.slug for p in profiles}) == len(profiles)
    for p in profiles:
        assert p.offers.entry_offer and p.offers.lead_magnet
        assert p.offers.entry_offer.price < p.offers.core_offer.price


def test_json_profiles_load(tmp_path: Path) -> None:
    data = load_profile(EXAMPLES[0]).model_dump(mode="json")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    assert load_profile(path).name == data["name"]


def test_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: X\nwhat_it_sells: y\nmarket: z\naudience: {who: a}\noffers: {core_offer: {name: c, price: -5}}\n"
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert "offers.core_offer.price" in info.value.message


def test_unknown_fields_are_rejected() -> None:
    text = Path(EXAMPLES[0]).read_text() + "\nfavourite_colour: blue\n"
    with pytest.raises(ProfileError, match="favourite_colour"):
        parse_profile_text(text)


def test_entry_offer_must_be_below_core_offer() -> None:
    text = (PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml").read_text().replace("price: 12", "price: 500")
    with pytest.raises(ProfileError, match=r"entry_offer\.price"):
        parse_profile_text(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "could not be parsed"),
        ("- just\n- a list\n", "must be a mapping"),
        ("!!python/object/apply:os.system ['echo hi']", "could not be parsed"),
    ],
)
def test_malformed_text(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_profile_text(text)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n" + "# padding\n" * (MAX_PROFILE_BYTES // 10 + 10))
    with pytest.raises(ProfileError, match="larger than"):
        load_profile(path)


def test_missing_file() -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_profile("nope/missing.yaml")
