"""The journey kit with a fake model: the graph, concurrency, atomic writes, resume, overview, totals."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.errors import UnknownStageError
from generator.kit import KitOptions, critical_path, plan_kit, run_kit
from generator.profile import BusinessProfile
from generator.settings import Settings
from tests.fakes import SchemaFake


def test_plan_has_one_asset_per_stage_and_the_dependency_edges() -> None:
    plan = {i.key: i for i in plan_kit()}
    assert len(plan) == 8
    assert plan["convert.entry_offer"].depends_on == ["subscribe.lead_magnet"]
    assert plan["promote.referral_program"].depends_on == ["ascend.ascension_offer"]
    assert critical_path(list(plan.values())) == 4


def test_plan_drops_edges_to_stages_left_out_and_numbers_variants() -> None:
    plan = plan_kit(["convert", "aware"], variants=2)
    assert [i.key for i in plan] == ["aware.social_post.v1", "aware.social_post.v2", "convert.entry_offer.v1",
                                     "convert.entry_offer.v2"]  # fmt: skip
    assert all(not i.depends_on for i in plan)


def test_an_extra_type_for_a_stage_left_out_is_refused_by_every_front_door() -> None:
    with pytest.raises(UnknownStageError, match="sms_message serves Convert: not a stage of this kit"):
        plan_kit(["aware"], extra_types=["sms_message"])
    result = CliRunner().invoke(app, ["kit", "-p", "examples/harbor-lane-coffee.yaml", "--stages", "aware",
                                      "--add-types", "sms_message"])  # fmt: skip
    assert result.exit_code == 2 and "not a stage of this kit" in result.output


def test_kit_runs_the_graph_concurrently_and_writes_each_asset(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    SchemaFake.reset()
    report = run_kit(coffee, plan_kit(), out_dir=tmp_path, model=SchemaFake(), index=None, settings=settings,
                     options=KitOptions(concurrency=4))  # fmt: skip
    assert report.totals.assets == 8 and report.totals.failed == 0
    assert sorted(p.stem for p in (tmp_path / "assets").glob("*.json")) == sorted(e.key for e in report.entries)
    assert SchemaFake.calls.index("LeadMagnetCopy") < SchemaFake.calls.index("EntryOfferCopy")  # the model fills copy
    assert (
        "Title: The 5-Minute Pour-Over Cheat Sheet" in SchemaFake.prompts["EntryOfferCopy"]
    )  # built on the lead magnet
    assert [s.stage for s in report.overview] == ["aware", "engage", "subscribe", "convert", "excite", "ascend",
                                                  "advocate", "promote"]  # fmt: skip
    assert report.totals.model_calls == 8


def test_a_rerun_resumes_and_redoes_nothing_finished(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    SchemaFake.reset()
    broken = SchemaFake(fail_for={"ReferralProgram"})
    first = run_kit(coffee, plan_kit(), out_dir=tmp_path, model=broken, index=None, settings=settings)
    assert first.totals.failed == 1 and first.totals.assets == 7
    assert next(e for e in first.entries if e.key == "promote.referral_program").error
    SchemaFake.reset()
    second = run_kit(coffee, plan_kit(), out_dir=tmp_path, model=SchemaFake(), index=None, settings=settings)
    assert SchemaFake.calls == ["ReferralProgram"]
    assert second.totals.failed == 0 and sum(e.cached for e in second.entries) == 7


def test_a_damaged_asset_file_is_redone(tmp_path: Path, settings: Settings, coffee: BusinessProfile) -> None:
    SchemaFake.reset()
    plan = plan_kit(["aware"])
    run_kit(coffee, plan, out_dir=tmp_path, model=SchemaFake(), index=None, settings=settings)
    (tmp_path / "assets" / "aware.social_post.json").write_text("{half a fi")
    SchemaFake.reset()
    report = run_kit(coffee, plan, out_dir=tmp_path, model=SchemaFake(), index=None, settings=settings)
    assert SchemaFake.calls == ["SocialPost_instagram"] and report.entries[0].draft is not None


@pytest.mark.parametrize("bad", [["nirvana"]])
def test_unknown_stage_in_a_plan(bad: list[str]) -> None:
    from generator.errors import UnknownStageError

    with pytest.raises(UnknownStageError):
        plan_kit(bad)


def test_the_longest_chains_start_first() -> None:
    from generator.kit import chain_heights

    heights = chain_heights(plan_kit())
    assert heights["subscribe.lead_magnet"] == 4 and heights["aware.social_post"] == 1
    assert heights["convert.entry_offer"] == 3 and heights["promote.referral_program"] == 1
