"""Facts in a language that writes 9,90 € and 1.500: prices and figures read as the profile's language writes them,
names match without their accents, and an SMS says how to stop in the business's language.

English reads exactly as before: "$12", "£5.50", "1,200 subscribers", "4.9 stars".
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from generator.asset_base import is_unicode_sms
from generator.asset_channels import SmsMessage, channel_rule_in
from generator.assets import ASSET_TYPES, ReferralProgram
from generator.evaluation.gate import Gate, load_gate
from generator.evaluation.gate_facts import claim_problems, plain_number
from generator.evaluation.items import to_subject
from generator.facts import offer_facts
from generator.language import decimal_comma
from generator.profile import BusinessProfile, load_profile
from generator.rules import contains_phrase, ladder_problems, money_amounts
from generator.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "eval"
SPANISH_OPT_OUT = "Responde BAJA para darte de baja"
POST: dict[str, Any] = {
    "channel": "instagram",
    "hook": "¿Nunca has probado pan de masa madre de verdad?",
    "body": "En Panadería La Espiga horneamos cada madrugada en nuestro obrador de Ruzafa. La Caja Primera Hornada "
    "trae una hogaza de 800 g, cuatro croissants de mantequilla y un tarro de masa madre viva por {price}. "
    "Recógela en el obrador o te la llevamos en bici por el centro.",
    "call_to_action": "Pide tu caja en panaderialaespiga.example",
    "hashtags": ["#masamadre", "#ruzafa"],
}


@pytest.fixture
def espiga() -> BusinessProfile:
    return load_profile(PROJECT_ROOT / "examples" / "panaderia-la-espiga.yaml")


@pytest.mark.parametrize(
    ("text", "spanish", "english"),
    [
        ("79 €", [79.0], []),
        ("9,90 €", [9.9], []),
        ("9,90€", [9.9], []),
        ("€ 9,90", [9.9], [9.9]),
        ("9,90 euros", [9.9], [9.9]),
        ("24 euros al mes", [24.0], [24.0]),
        ("1.200 €", [1200.0], []),
        ("1.200,50 €", [1200.5], []),
        ("S/ 60", [60.0], []),
        ("$19.990", [19990.0], [19.99]),  # Chilean pesos: nineteen thousand
        ("9.90 €", [9.9], []),  # the English way, as people type it
        ("$1,200.50", [1200.5], [1200.5]),
        ("$12", [12.0], [12.0]),
        ("£5.50", [5.5], [5.5]),
        ("Give $10, get £5.50 or 20 USD", [10.0, 5.5, 20.0], [10.0, 5.5, 20.0]),
        ("por 79 €, 35 € y 99 €.", [79.0, 35.0, 99.0], []),
        ("un 20 % menos, 48 horas, desde 2014", [], []),
        ("5 try, 2 pen", [], []),  # words, not currency codes
    ],
)
def test_money_reads_as_the_language_writes_it(text: str, spanish: list[float], english: list[float]) -> None:
    assert money_amounts(text, "es") == spanish
    assert money_amounts(text) == money_amounts(text, "en") == english


def test_which_languages_write_a_decimal_comma() -> None:
    assert [decimal_comma(t) for t in ("es", "es-ES", "es-CL", "de", "fr-CA", "pt-BR", "ca")] == [True] * 7
    assert [decimal_comma(t) for t in ("en", "en-GB", "es-MX", "es-419", "de-CH", "zh-Hant", "ja")] == [False] * 7
    assert money_amounts("$1,200.50 MXN", "es-MX") == [1200.5] and money_amounts("R$ 49,90", "pt-BR") == [49.9]


@pytest.mark.parametrize(
    ("raw", "language", "plain"),
    [
        ("1.500", "en", "1.5"),
        ("1.500", "es", "1500"),
        ("4,9", "es", "4.9"),
        ("4,9", "en", "49"),
        ("4.9", "en", "4.9"),
        ("4.9", "es", "4.9"),
        ("1,200", "en", "1200"),
        ("1.200,5", "de", "1200.5"),
        ("2014.", "es", "2014"),
        ("320", "es", "320"),
    ],
)
def test_plain_numbers_per_language(raw: str, language: str, plain: str) -> None:
    assert plain_number(raw, language) == plain


def test_a_figure_is_compared_as_the_language_writes_it() -> None:
    claims = load_gate(EVAL).claims
    brief = "Un 15 % de los vecinos ya están suscritos."
    assert claim_problems("el 15 % del barrio", brief, claims, "es") == []
    assert claim_problems("el 1,5 % del barrio", brief, claims, "es") == ["'1,5 %' is not in the profile's proof"]
    assert claim_problems("el 1,5 % del barrio", brief, claims) == []  # English reads 1,5 as 15, as before


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("Pide ya en Panaderia La Espiga", "Panadería La Espiga", True),
        ("PANADERÍA LA ESPIGA", "panaderia la espiga", True),
        ("un café con leche", "cafe", True),
        ("Harbor Lane Coffee ships free", "harbor lane coffee", True),
        ("the cheapest beans", "cheap", False),
        ("Panaderías del barrio", "Panadería", False),
    ],
)
def test_phrases_match_without_their_accents(text: str, phrase: str, found: bool) -> None:
    assert contains_phrase(text, phrase) is found


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Panadería La Espiga", "panaderia-la-espiga"),
        ("Crème & Café Ñandú", "creme-cafe-nandu"),
        ("Harbor-Lane Coffee!", "harbor-lane-coffee"),
        ("Straße 9", "stra-e-9"),  # a letter with no accent to drop is a separator, as before
        ("東京", "business"),
    ],
)
def test_slugs_transliterate_accents(name: str, slug: str, espiga: BusinessProfile) -> None:
    assert espiga.model_copy(update={"name": name}).slug == slug


def test_the_spanish_example_is_named_like_its_file(espiga: BusinessProfile) -> None:
    assert espiga.slug == "panaderia-la-espiga"


def test_an_item_for_an_accented_business_is_scored_with_its_profile(espiga: BusinessProfile) -> None:
    item = {"stage": "aware", "text": "Pan de masa madre en Ruzafa.", "business": "Panadería La Espiga"}
    assert to_subject(item, number=1, profile=espiga).profile == espiga


@pytest.mark.parametrize(
    ("price", "invented"),
    [("9,90 €", False), ("9,90€", False), ("9,90 euros", False), ("4,90 €", True), ("7 €", True), ("1.200 €", True)],
)
def test_an_invented_price_in_spanish_fails_the_facts_check(
    price: str, invented: bool, espiga: BusinessProfile
) -> None:
    asset = ASSET_TYPES["social_post"].model_validate({**POST, "body": POST["body"].format(price=price)})
    result = Gate(EVAL).check(asset.as_text(), asset=asset, profile=espiga)
    facts = next(c for c in result.checks if c.id == "facts")
    assert facts.passed is not invented, facts.reason
    if invented:
        assert "is not one of the profile's" in facts.reason


def test_a_referral_reward_in_euros_is_sized_to_the_ladder(espiga: BusinessProfile) -> None:
    program = {
        "program_name": "Amigos de La Espiga",
        "mechanism": "give-get",
        "sharer_reward": "50 € en efectivo por cada amigo",
        "friend_reward": "Un vale de 5 € para la cafetería",
        "rules": ["El amigo se suscribe al Pan de la Semana"],
        "sharer_invite": "Invita a tus vecinos a probar el Pan de la Semana y gana 50 € por cada uno.",
        "friend_message": "Te regalo 5 € para tu primer desayuno en Panadería La Espiga.",
        "tracking": "Un código personal en tu cuenta.",
    }
    problems = ladder_problems(ReferralProgram.model_validate(program), espiga)
    assert problems and "larger than the core offer's price (24 EUR)" in problems[0]
    fair = {**program, "sharer_reward": "Una semana de pan gratis (6 €)", "friend_reward": "9,90 € de descuento"}
    assert ladder_problems(ReferralProgram.model_validate(fair), espiga) == []


def test_a_spanish_sms_says_how_to_stop_in_spanish(espiga: BusinessProfile) -> None:
    rule = channel_rule_in("sms_message", espiga.language)
    assert rule is not None and rule.fixed["opt_out"] == SPANISH_OPT_OUT
    assert channel_rule_in("sms_message", "es-MX") == rule  # a region falls back on its language
    english = channel_rule_in("sms_message", "en")
    assert english is not None and english.fixed["opt_out"] == "Reply STOP to opt out"
    assert channel_rule_in("sms_message", "de") == english  # a language not listed: the channel's own
    assert (rule.max_chars, rule.single_chars) == (english.max_chars, english.single_chars) == (306, 160)
    assert len(SPANISH_OPT_OUT) <= 40 and not is_unicode_sms(SPANISH_OPT_OUT)  # one plain segment stays 160
    message = "Panaderia La Espiga: tu Caja Primera Hornada por 9,90 EUR. Pidela en panaderialaespiga.example"
    for opt_out in (SPANISH_OPT_OUT, "Envia STOP para no recibir mensajes", "Reply STOP to opt out"):
        sms = SmsMessage.model_validate({"message": message, "opt_out": opt_out})
        assert sms.channel_report() == ([], f"SMS: {len(message) + 1 + len(opt_out)}/306 characters, 1 segment")
    with pytest.raises(ValidationError, match="does not say how to stop"):
        SmsMessage.model_validate({"message": message, "opt_out": "Gracias por leernos"})


def test_a_spanish_profiles_sms_is_filled_with_the_spanish_line(espiga: BusinessProfile) -> None:
    assert offer_facts(SmsMessage, espiga).fixed["opt_out"] == SPANISH_OPT_OUT
