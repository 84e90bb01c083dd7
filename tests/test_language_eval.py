"""The eval in the business's language: Spanish read with Spanish lists, a draft in the wrong language flagged,
and a language without lists judged only where it can be (the rest says why not)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from generator.assets import ASSET_TYPES
from generator.cli import app
from generator.evaluation.gate import Gate
from generator.evaluation.readability import reading_grade
from generator.evaluation.rule_scorers import LEXICAL_RULES, Subject
from generator.evaluation.scoring import Evaluator, language_note
from generator.evaluation.signals import PHRASE_LISTS, Lexicon, has_lexicon, load_lexicon, measure
from generator.language_detect import detect
from generator.profile import BusinessProfile, load_profile
from generator.settings import PROJECT_ROOT, Settings
from generator.ui_common import verdict_line
from tests.test_gate import POST

EVAL = PROJECT_ROOT / "eval"
GATE = Gate(EVAL)
SPANISH_POST: dict[str, Any] = {
    "channel": "instagram",
    "hook": "¿Tu café de casa sabe amargo?",
    "body": "Casi siempre es el agua: si hierve, quema el café. Deja reposar el hervidor 30 segundos antes de "
    "verter. En Harbor Lane Coffee tostamos cada semana y te contamos más trucos como este.",
    "call_to_action": "Síguenos para un truco de café cada viernes.",
    "hashtags": ["#cafeencasa"],
}
ENGLISH_POST: dict[str, Any] = POST  # the gate tests' post an editor would keep


def _in(coffee: BusinessProfile, language: str) -> BusinessProfile:
    return coffee.model_copy(update={"language": language})


def _subject(profile: BusinessProfile, fields: dict[str, Any], stage: str = "aware") -> Subject:
    asset = ASSET_TYPES["social_post"].model_validate(fields)
    return Subject(stage=stage, text=asset.as_text(), business=profile.name, profile=profile, asset=asset)


def _written_in(profile: BusinessProfile, fields: dict[str, Any]) -> tuple[bool, str]:
    asset = ASSET_TYPES["social_post"].model_validate(fields)
    check = next(c for c in GATE.check(asset.as_text(), asset=asset, profile=profile).checks if c.id == "written_in")
    return check.passed, check.reason


def test_a_draft_in_the_business_language_passes(coffee: BusinessProfile) -> None:
    passed, reason = _written_in(_in(coffee, "es"), SPANISH_POST)
    assert passed and re.match(r"reads as Spanish \(\d+%\)$", reason)
    passed, reason = _written_in(coffee, ENGLISH_POST)
    assert passed and reason.startswith("reads as English")


@pytest.mark.parametrize(
    ("language", "fields", "said"), [("es", ENGLISH_POST, "English"), ("en", SPANISH_POST, "Spanish")]
)
def test_a_draft_in_the_wrong_language_is_flagged_and_off_brief(
    coffee: BusinessProfile, settings: Settings, language: str, fields: dict[str, Any], said: str
) -> None:
    profile = _in(coffee, language)
    passed, reason = _written_in(profile, fields)
    assert not passed
    assert re.match(rf"reads as {said} \(\d+%\), not (Spanish|English)$", reason)
    score = Evaluator(settings=settings).score(_subject(profile, fields))
    assert (
        score.gate is not None and not score.passed and not score.gate.passed
    )  # off brief: a tenth of its rubric score


def test_a_short_text_is_too_little_to_tell(coffee: BusinessProfile) -> None:
    assert detect("Reserva ya", expected="es") is None
    short = {**ENGLISH_POST, "body": "Fresh beans. Roasted weekly.", "call_to_action": "Follow us."}
    passed, reason = _written_in(_in(coffee, "es"), {**short, "hook": "Fresh coffee"})
    assert passed and reason == "too little text to tell its language"


def test_spanish_is_read_with_spanish_lists(coffee: BusinessProfile, settings: Settings) -> None:
    spanish = Evaluator(settings=settings).score(_subject(_in(coffee, "es"), SPANISH_POST))
    assert spanish.gate is not None
    criteria = {c.id: c for c in spanish.criteria}
    assert spanish.gate.passed, [c.reason for c in spanish.gate.checks if not c.passed]
    you = int(re.match(r"'you' (\d+)x", criteria["reader_first"].reason or "").group(1))  # type: ignore[union-attr]
    assert you >= 2  # "tu café", "te contamos": the Spanish lists see the reader
    assert not any("no phrase lists" in (c.reason or "") for c in spanish.criteria)  # read with the Spanish lists
    english_lists = measure(SPANISH_POST["body"], EVAL)  # the English lists see no 'you' in Spanish copy
    assert measure(SPANISH_POST["body"], EVAL, "es").you > english_lists.you


def test_a_language_without_lists_judges_what_it_can_and_says_what_it_cannot(
    coffee: BusinessProfile, settings: Settings
) -> None:
    finnish = _in(coffee, "fi")
    assert not has_lexicon(EVAL, "fi") and load_lexicon(EVAL, "fi").language == "en"
    fields = {
        **SPANISH_POST,
        "hook": "Maistuuko kotikahvisi kitkerältä?",
        "body": "Useimmiten syy on vesi: kiehuva vesi polttaa kahvin. Anna vedenkeittimen levätä 30 sekuntia. "
        "Harbor Lane Coffee paahtaa joka viikko ja kertoo lisää vinkkejä.",
        "call_to_action": "Seuraa meitä ja saat kahvivinkin joka perjantai.",
    }
    score = Evaluator(settings=settings).score(_subject(finnish, fields))
    not_judged = {c.id: c.reason for c in score.criteria if (c.reason or "").startswith("not judged")}
    assert not_judged, "a language without lists judged its lexical rules anyway"
    assert all(r == "not judged in Finnish: no phrase lists (eval/signals.fi.yaml)" for r in not_judged.values())
    judged = {c.id for c in score.criteria if c.score is not None}
    assert {"avoid_words", "banned_claims", "names_business"} <= judged
    assert all(c.score is None for c in score.criteria if c.id in not_judged)
    assert (
        score.gate is not None and next(c for c in score.gate.checks if c.id == "written_in").passed
    )  # Finnish copy, Finnish profile


def test_every_language_file_has_every_list_the_english_one_has() -> None:
    english = Lexicon.model_validate(yaml.safe_load((EVAL / "signals.yaml").read_text(encoding="utf-8")))
    files = sorted(EVAL.glob("signals.*.yaml"))
    assert files, "no second language's lists"
    for path in files:
        lexicon = Lexicon.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        missing = [n for n in PHRASE_LISTS if getattr(english, n) and not getattr(lexicon, n)]
        assert not missing, f"{path.name} has no {missing}"
        assert all(isinstance(w, str) for w in lexicon.stop_words), f"{path.name}: quote yes/no/on/off in YAML"
        load_lexicon(EVAL, path.name.split(".")[1])  # every pattern compiles


def test_the_lexical_rules_are_the_ones_that_read_lists() -> None:
    assert {"has_cta", "reader_first", "readability", "no_purchase_ask"} <= LEXICAL_RULES
    assert not {"avoid_words", "banned_claims", "names_business", "channel_length", "price_ladder"} & LEXICAL_RULES


def test_spanish_readability_orders_plain_before_convoluted() -> None:
    plain = "Ven el sábado. Te enseñamos a hacer pan. Cuesta 25 euros y dura dos horas."
    convoluted = (
        "La consecución de resultados extraordinarios requiere indefectiblemente una planificación "
        "meticulosamente estructurada y comprometida con la excelencia organizacional."
    )
    assert reading_grade(plain, "fernandez_huerta") < 8 < reading_grade(convoluted, "fernandez_huerta")


def test_spanish_gate_catches_an_invented_guarantee(coffee: BusinessProfile) -> None:
    fields = {**SPANISH_POST, "body": SPANISH_POST["body"] + " Garantía de devolución del dinero."}
    asset = ASSET_TYPES["social_post"].model_validate(fields)
    voice = coffee.brand_voice.model_copy(update={"words_to_avoid": ["cheap"]})  # the brief then never says it
    profile = _in(coffee, "es").model_copy(update={"brand_voice": voice})
    result = GATE.check(asset.as_text(), asset=asset, profile=profile)
    facts = next(c for c in result.checks if c.id == "facts")
    assert not facts.passed and "garantía" in facts.reason.lower()


def test_the_detector_is_shipped_in_the_package() -> None:
    found = detect("Casi siempre es el agua: si hierve, quema el café. Deja reposar el hervidor.", expected="es")
    assert found is not None and found.language == "es" and found.expected == found.probability


def test_a_front_door_says_once_what_a_language_leaves_unjudged() -> None:
    assert language_note(EVAL, "en") is None
    assert language_note(EVAL, "es") == (
        "Spanish is judged with eval/signals.es.yaml; not judged in Spanish: the quality model (trained on English)."
    )
    german = language_note(EVAL, "de")
    assert german is not None and german.startswith("The eval has no phrase lists for German (eval/signals.de.yaml)")


def test_calibration_per_language_needs_that_language_sets() -> None:
    result = CliRunner().invoke(app, ["eval", "calibrate", "--language", "de"])
    assert result.exit_code == 2 and "No labelled sets for German" in result.output


def test_the_studio_says_which_criteria_were_not_judged_in_the_language(
    coffee: BusinessProfile, settings: Settings
) -> None:
    spanish = Evaluator(settings=settings).score(_subject(_in(coffee, "es"), SPANISH_POST))
    assert verdict_line(spanish).endswith("*Not judged in Spanish: Reads like a strong draft for this stage.*")
    assert "Not judged" not in verdict_line(Evaluator(settings=settings).score(_subject(coffee, ENGLISH_POST)))


@pytest.mark.parametrize(
    ("sentence", "flagged"),
    [
        ("Ya somos 320 vecinos suscritos al Pan de la Semana.", False),
        ("Ya somos 2.000 vecinos suscritos al Pan de la Semana.", True),
        ("Horneando en Ruzafa desde 2014.", False),
        ("Premiados desde 2009 por el mejor pan de Valencia.", True),
        ("Nuestros clientes nos dan 4,9 estrellas.", True),
        ("«Desde que me apunté al Pan de la Semana no he vuelto a comprar pan de bolsa» — Marta", False),
        ("«Mi familia ya no compra pan en el súper, nos encanta cada hogaza del sábado» — Carmen", True),
    ],
)
def test_spanish_proof_figures_and_quotes_must_be_the_profile_own(sentence: str, flagged: bool) -> None:
    bakery = load_profile(PROJECT_ROOT / "examples" / "panaderia-la-espiga.yaml")
    fields = {
        "channel": "instagram",
        "hook": "Pan de masa madre en Ruzafa",
        "body": f"En Panadería La Espiga dejamos fermentar cada hogaza con calma. {sentence}",
        "call_to_action": "Síguenos para ver qué sale del horno cada mañana.",
        "hashtags": [],
    }
    asset = ASSET_TYPES["social_post"].model_validate(fields)
    facts = next(c for c in GATE.check(asset.as_text(), asset=asset, profile=bakery).checks if c.id == "facts")
    assert facts.passed is not flagged, facts.reason
