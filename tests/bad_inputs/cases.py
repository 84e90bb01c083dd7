"""The bad-input corpus: profiles, requests and item files, each with the words its error must contain.

Each case is ``(id, payload, expected)``; the ids are the rows of the report (P = profile, R = request, I = items,
D = draft files). Payloads are built from the first example profile so every case is one fault away from valid.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from generator.settings import PROJECT_ROOT
from tests.bad_inputs.bombs import MIB, billion_laughs

COFFEE_PATH = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"
COFFEE: dict[str, Any] = yaml.safe_load(COFFEE_PATH.read_text(encoding="utf-8"))


def coffee(**changes: Any) -> dict[str, Any]:
    """The example profile with dotted fields changed: ``coffee(**{"offers.core_offer.price": -5})``."""
    data = copy.deepcopy(COFFEE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[leaf] = value
    return data


def as_json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


TEN_THOUSAND_OFFERS = coffee(**{"offers.upsells": [{"name": "Mug", "price": 9}] * 10_000})
FIVE_MB_FIELD = coffee(name="A" * (5 * MIB))
# (id, profile text, expected words). All are profile texts a person could paste or save; the CLI saves them as
# p.yaml, the UI gets them as text, the API gets the JSON-able ones as the body's profile.
PROFILE_TEXTS: list[tuple[str, str, str]] = [
    ("P01-malformed-yaml", "name: [broken\n", "could not be parsed as YAML"),
    ("P03-not-a-mapping", "- just\n- a list\n", "must be a mapping of fields, got list"),
    ("P04-empty", "", "is empty"),
    ("P05-price-wrong-type", as_json(coffee(**{"offers.core_offer.price": "cheap"})), "offers.core_offer.price"),
    ("P06-list-wrong-type", as_json(coffee(**{"audience.pains": 42})), "audience.pains"),
    ("P07-negative-price", as_json(coffee(**{"offers.core_offer.price": -5})), "greater than or equal to 0"),
    ("P08-absurd-price", as_json(coffee(**{"offers.core_offer.price": 1e12})), "less than or equal to 10000000"),
    ("P09-infinite-price", yaml.safe_dump(coffee(**{"offers.core_offer.price": float("inf")})), "finite number"),
    ("P10-10000-offers", as_json(TEN_THOUSAND_OFFERS), "offers.upsells: List should have at most 10 items"),
    ("P11-5mb-field", as_json(FIVE_MB_FIELD), "larger than 256 KiB"),
    ("P12-multi-megabyte", "name: x\n" + "# padding to megabytes\n" * 150_000, "larger than 256 KiB"),
    ("P13-python-tag", "!!python/object/apply:os.system ['echo pwned']\n", "a tag CVJ Kit does not load"),
    ("P14-billion-laughs", billion_laughs(), "aliases expand to more than 10,000 values"),
    ("P15-recursive-alias", "name: &loop [*loop]\n", "a cycle"),
    ("P16-deep-nesting-yaml", "name: " + "[" * 100_000 + "\n", "nested too deeply"),
    ("P20-escape-in-yaml", yaml.safe_dump(coffee(name="Harbor \x1b[2J Lane")), "control character (U+001B"),
    ("P21-nul-in-json", as_json(coffee(**{"audience.who": "coffee lovers\x00"})), "control character (U+0000"),
    ("P22-unknown-field", as_json({**COFFEE, "nmae": "typo"}), "nmae: Extra inputs are not permitted"),
]
# Only as files (bytes a text box cannot hold, or a format chosen by the file's suffix).
PROFILE_FILES: list[tuple[str, str, bytes, str]] = [
    ("P02-malformed-json", "p.json", b'{"name": "x",}', "could not be parsed as json"),
    ("P17-deep-nesting-json", "p.json", b"[" * 100_000, "nested too deeply"),
    ("P18-latin1", "p.yaml", "name: Caf\xe9 Cr\xe8me\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
    ("P19-binary", "p.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is a binary file"),
]
# API bodies: the profile (as JSON data) is the fault.
PROFILE_BODIES: list[tuple[str, Any, str]] = [
    ("P03-not-a-mapping", ["just", "a list"], "body.profile"),
    ("P05-price-wrong-type", coffee(**{"offers.core_offer.price": "cheap"}), "body.profile.offers.core_offer.price"),
    ("P06-list-wrong-type", coffee(**{"audience.pains": 42}), "body.profile.audience.pains"),
    ("P07-negative-price", coffee(**{"offers.core_offer.price": -5}), "greater than or equal to 0"),
    ("P08-absurd-price", coffee(**{"offers.core_offer.price": 1e12}), "less than or equal to 10000000"),
    ("P10-10000-offers", TEN_THOUSAND_OFFERS, "List should have at most 10 items"),
    ("P11-5mb-field", FIVE_MB_FIELD, "String should have at most 300 characters"),
    ("P20-escape-in-name", coffee(name="Harbor \x1b[2J Lane"), "control character (U+001B"),
    ("P21-nul-in-text", coffee(**{"audience.who": "coffee lovers\x00"}), "control character (U+0000"),
    ("P22-unknown-field", {**COFFEE, "nmae": "typo"}, "Extra inputs are not permitted"),
]
# A draft request's own fields: (id, stage, asset type, instructions, expected).
REQUESTS: list[tuple[str, str, str | None, str | None, str]] = [
    ("R01-unknown-stage", "nirvana", None, None, "Unknown stage 'nirvana'"),
    ("R02-unknown-asset-type", "aware", "billboard", None, "Unknown asset type 'billboard'"),
    ("R03-asset-of-another-stage", "aware", "lead_magnet", None, "Unknown asset type 'lead_magnet'"),
    ("R04-5mb-instructions", "aware", None, "x" * (5 * MIB), "at most 2000 characters"),
    ("R08-empty-stage", "", None, None, "Unknown stage ''"),
]
