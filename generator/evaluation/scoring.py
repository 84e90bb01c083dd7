"""Score an asset: the on-brief gate first, then its stage's rubric (rules, stage fit, quality model, judge).

The score is the weighted mean of the criteria that apply, in [0, 1]; the asset passes when it is on brief
(the gate), the score reaches the rubric's threshold and every required criterion that applies reaches its
``pass_at`` (0.5 unless the rubric says otherwise).
A draft off brief (debris, invented facts, another business, nonsense) scores near 0 whatever else it does.
The verdict a copywriter sees: passed, needs work (with the reasons) or failed (off brief).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from generator.errors import CVJError
from generator.evaluation.criteria import Criterion, load_rubric
from generator.evaluation.gate import gate_for
from generator.evaluation.judge import Judge
from generator.evaluation.quality_model import Judged, QualityScorer
from generator.evaluation.results import AssetScore, CriterionScore, StageFit
from generator.evaluation.rule_scorers import LEXICAL_RULES, RULES, RuleResult, Subject, copy_text
from generator.evaluation.signals import MODEL_CRITERIA, base_language, has_lexicon, load_lexicon, measure
from generator.evaluation.stage_fit import StageClassifier
from generator.language import DEFAULT_LANGUAGE, language_name
from generator.settings import Settings
from generator.voice import voice_match
from generator.voice_traits import LearnedVoice

EXEMPLAR_CACHE = 256  # voices whose exemplars' embeddings are kept
MODEL_RULES = frozenset(MODEL_CRITERIA)  # learned from English texts: judged where a language file says so
OFF_BRIEF_FACTOR = 0.1  # a draft that fails the gate keeps a tenth of its rubric score: near 0, still ordered


class Evaluator:
    """Scores subjects; the classifier, the offline quality model and the judge are optional collaborators."""

    def __init__(
        self,
        *,
        settings: Settings,
        classifier: StageClassifier | None = None,
        judge: Judge | None = None,
        quality: QualityScorer | None = None,
    ) -> None:
        self.settings = settings
        self.classifier = classifier
        self.judge = judge
        self.quality = quality
        self.gate = gate_for(settings.eval_dir, settings.prompts_dir)
        self._exemplars: dict[tuple[str, ...], np.ndarray] = {}

    def _stage_fit(self, criterion: Criterion, subject: Subject, fit: StageFit | None) -> RuleResult | None:
        if fit is None:
            return None
        p = fit.scores.get(subject.stage, 0.0)
        wanted = float(criterion.params.get("min_confidence", 0.4))
        reason = f"reads as {subject.stage} {p:.0%}"
        if fit.stage != subject.stage:
            reason += f" (best: {fit.describe()})"
        # p == min_confidence scores 0.5 (the pass line of a required criterion); 2x that scores 1.0.
        return RuleResult(score=round(min(1.0, p / (2 * wanted)), 3), reason=reason)

    def _voice(self, voice: LearnedVoice, subject: Subject, vector: np.ndarray | None) -> RuleResult:
        """The learned voice's habits and, where the texts were embedded, the draft's closeness to the exemplars."""
        similarity = None
        if vector is not None and self.quality is not None:
            key = tuple(voice.exemplars)
            if key not in self._exemplars:
                if len(self._exemplars) >= EXEMPLAR_CACHE:  # a long-lived evaluator (the API) sees many businesses
                    self._exemplars.clear()
                self._exemplars[key] = _unit(self.quality.embed(list(key)))
            similarity = float((self._exemplars[key] @ _unit(vector)).mean())
        match = voice_match(copy_text(subject), voice, similarity=similarity)
        return RuleResult(score=match.score, reason=match.reason())

    def _result(
        self,
        criterion: Criterion,
        subject: Subject,
        fit: StageFit | None,
        verdict: Judged | None,
        vector: np.ndarray | None = None,
    ) -> RuleResult | str:
        """A result, or why there is none."""
        unread = self._not_read(criterion, subject)
        if unread:
            return unread
        if criterion.scorer == "judge":
            if self.judge is None:
                return "judge off"
            try:
                return self.judge.score(criterion, subject)
            except CVJError as exc:
                return f"judge failed: {exc.message[:120]}"
        if criterion.rule == "stage_fit":
            return self._stage_fit(criterion, subject, fit) or "no classifier"
        if criterion.rule == "quality_model":
            return RuleResult(score=verdict.score, reason=verdict.reason) if verdict else "no quality model"
        if criterion.rule == "brand_voice":
            voice = subject.profile.voice if subject.profile else None
            return self._voice(voice, subject, vector) if voice else "no learned voice"
        return RULES[str(criterion.rule)](subject, criterion.params) or "does not apply"

    def _not_read(self, criterion: Criterion, subject: Subject) -> str | None:
        """Why a criterion can't be judged in the subject's language, or None: rules need the language's phrase lists,
        the learned scorers (stage fit, quality) a measured fit for the language."""
        language = subject.language_tag
        if base_language(language) == DEFAULT_LANGUAGE or criterion.scorer == "judge":
            return None
        name = language_name(language)
        if not has_lexicon(self.settings.eval_dir, language):
            if criterion.rule in LEXICAL_RULES | MODEL_RULES:
                return f"not judged in {name}: no phrase lists (eval/signals.{base_language(language)}.yaml)"
            return None
        if (
            criterion.rule in MODEL_RULES
            and criterion.rule not in load_lexicon(self.settings.eval_dir, language).models
        ):
            return f"not judged in {name}: the {criterion.rule.replace('_', ' ')} is trained on English"
        return None

    def _one(
        self,
        criterion: Criterion,
        subject: Subject,
        fit: StageFit | None,
        verdict: Judged | None,
        vector: np.ndarray | None = None,
    ) -> CriterionScore:
        result = self._result(criterion, subject, fit, verdict, vector)
        return CriterionScore(
            id=criterion.id,
            name=criterion.name,
            scorer=criterion.scorer,
            weight=criterion.weight,
            required=criterion.required,
            pass_at=criterion.pass_at,
            score=round(result.score, 4) if isinstance(result, RuleResult) else None,
            reason=result.reason if isinstance(result, RuleResult) else str(result),
        )

    def score(self, subject: Subject) -> AssetScore:
        return self.score_many([subject])[0]

    def _score(
        self, subject: Subject, fit: StageFit | None, verdict: Judged | None, vector: np.ndarray | None = None
    ) -> AssetScore:
        rubric = load_rubric(self.settings.eval_dir / "criteria", subject.stage)
        scores = [self._one(c, subject, fit, verdict, vector) for c in rubric.criteria]
        applied = [c for c in scores if c.score is not None]
        total = sum(c.weight for c in applied)
        value = sum(c.weight * (c.score or 0.0) for c in applied) / total if total else 0.0
        required_ok = all((c.score or 0.0) >= c.pass_at for c in applied if c.required)
        gate = self.gate.check(
            subject.text,
            asset=subject.asset,
            profile=subject.profile,
            business=subject.business,
            language=subject.language_tag,
        )
        if not gate.passed:
            value *= OFF_BRIEF_FACTOR
        return AssetScore(
            stage=subject.stage,
            score=round(value, 4),
            passed=gate.passed and required_ok and value >= rubric.pass_threshold,
            threshold=rubric.pass_threshold,
            stage_fit=fit,
            criteria=scores,
            gate=gate,
        )

    def score_many(
        self, subjects: list[Subject], *, on_scored: Callable[[AssetScore], None] | None = None
    ) -> list[AssetScore]:
        """Batch: texts embedded once, one classifier call; ``on_scored`` follows progress."""
        texts = [s.text for s in subjects]
        subjects = [
            s.model_copy(update={"signals": s.signals or measure(s.text, self.settings.eval_dir, s.language_tag)})
            for s in subjects
        ]
        vectors = self.quality.embed(texts) if self.quality and texts else None
        fits: list[StageFit | None] = [None] * len(subjects)
        if self.classifier is not None:
            fits = list(
                self.classifier.classify(texts) if vectors is None else self.classifier.classify(texts, vectors=vectors)
            )
        verdicts: list[Judged | None] = [None] * len(subjects)
        if self.quality is not None and vectors is not None:
            p_stage = [f.scores.get(s.stage, 0.0) if f else 0.0 for f, s in zip(fits, subjects, strict=True)]
            signals = [s.measured() for s in subjects]
            verdicts = list(self.quality.model.judge(signals, p_stage, vectors, [s.stage for s in subjects]))
        results = []
        rows: list[np.ndarray | None] = list(vectors) if vectors is not None else [None] * len(subjects)
        for subject, fit, verdict, vector in zip(subjects, fits, verdicts, rows, strict=True):
            results.append(self._score(subject, fit, verdict, vector))
            if on_scored:
                on_scored(results[-1])
        return results


def language_note(eval_dir: Path, language: str) -> str | None:
    """What the eval can't judge in a language, for a front door to say once (None for English and for a language
    judged in full)."""
    base, name = base_language(language), language_name(language)
    if base == DEFAULT_LANGUAGE:
        return None
    if not has_lexicon(eval_dir, language):
        return (
            f"The eval has no phrase lists for {name} (eval/signals.{base}.yaml): its craft rules, stage fit and "
            "quality model are not judged; the on-brief gate (the language included), brand words, claims, prices "
            "and lengths are."
        )
    missing = sorted(MODEL_RULES - load_lexicon(eval_dir, language).models)
    if not missing:
        return None
    named = " and ".join(m.replace("_", " ") for m in missing)
    return f"{name} is judged with eval/signals.{base}.yaml; not judged in {name}: the {named} (trained on English)."


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
