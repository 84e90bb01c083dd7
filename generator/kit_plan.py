"""The kit's plan: which assets it drafts (each stage's default, and any more asked for), as a dependency graph.

Assets that build on others (the entry offer on the lead magnet, the upsell on the entry offer, a welcome
sequence on the lead magnet it delivers) wait for them when both are in the plan; the plan lists them in an
order where every asset comes after what it builds on.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from generator.assets import ASSET_TYPES, resolve_asset_type
from generator.errors import UnknownStageError
from generator.stages import STAGE_IDS, StageId, get_stage, parse_stage_id

BUILDS_ON: dict[str, tuple[str, ...]] = {
    "entry_offer": ("lead_magnet",),
    "onboarding_wow": ("entry_offer",),
    "ascension_offer": ("entry_offer",),
    "review_request": ("onboarding_wow",),
    "referral_program": ("ascension_offer",),
    # The types a kit drafts when asked (`extra_types`): each builds on a stage's default, never on another extra.
    "welcome_sequence": ("lead_magnet",),
    "lead_magnet_page": ("lead_magnet",),
    "entry_offer_page": ("entry_offer",),
    "order_bump": ("entry_offer",),
    "sms_message": ("entry_offer",),
    "onboarding_sequence": ("entry_offer",),
    "upsell_sequence": ("ascension_offer",),
    "winback_email": ("ascension_offer",),
    "review_sequence": ("onboarding_wow",),
}


class KitItem(BaseModel):
    key: str
    stage: StageId
    asset_type: str
    variant: int | None = None
    depends_on: list[str] = Field(default_factory=list)


def extra_asset_types(names: list[str] | str | None) -> list[str]:
    """Asset type names ('welcome_sequence,sms-message' works too), checked; an unknown one lists the valid."""
    items = names.split(",") if isinstance(names, str) else list(names or [])
    wanted = list(dict.fromkeys(n.strip().lower().replace("-", "_") for n in items if n.strip()))
    unknown = [n for n in wanted if n not in ASSET_TYPES]
    if unknown:
        raise UnknownStageError(
            f"Unknown asset type(s): {', '.join(unknown)}. Choose from: {', '.join(ASSET_TYPES)}.",
            details={"asset_types": unknown, "valid": list(ASSET_TYPES)},
        )
    return wanted


def extra_types_in_kit(names: list[str] | str | None, stages: list[str]) -> list[str]:
    """``extra_asset_types``, each serving one of the kit's ``stages``: a type for a stage left out is refused
    (it would be drafted without the asset it builds on, or not at all)."""
    wanted = extra_asset_types(names)
    outside = [t for t in wanted if ASSET_TYPES[t].stage not in stages]
    if outside:
        serves = "; ".join(f"{t} serves {get_stage(ASSET_TYPES[t].stage).name}" for t in outside)
        raise UnknownStageError(
            f"{serves}: not a stage of this kit (stages: {', '.join(stages)}). Add the stage, or leave the type out.",
            details={"asset_types": outside, "stages": stages},
        )
    return wanted


def plan_kit(stages: list[str] | None = None, variants: int = 1, extra_types: list[str] | None = None) -> list[KitItem]:
    """One item per stage (its default asset type, then each of ``extra_types`` that serves it) and variant, with
    dependency edges."""
    stage_ids = [parse_stage_id(s) for s in stages] if stages else list(STAGE_IDS)
    chosen = [resolve_asset_type(s).asset_type for s in stage_ids]
    chosen += [t for t in extra_types_in_kit(extra_types, list(stage_ids)) if t not in chosen]
    items = []
    for stage_id in STAGE_IDS:
        for asset_type in (t for t in chosen if ASSET_TYPES[t].stage == stage_id):
            deps = [d for d in BUILDS_ON.get(asset_type, ()) if d in chosen]
            for n in range(1, variants + 1):
                suffix = f".v{n}" if variants > 1 else ""
                depends = [f"{resolve_stage(d)}.{d}{suffix}" for d in deps]
                items.append(
                    KitItem(
                        key=f"{stage_id}.{asset_type}{suffix}",
                        stage=stage_id,
                        asset_type=asset_type,
                        variant=n if variants > 1 else None,
                        depends_on=depends,
                    )
                )
    return items


def resolve_stage(asset_type: str) -> str:
    return ASSET_TYPES[asset_type].stage


def chain_heights(items: list[KitItem]) -> dict[str, int]:
    """For each item, the longest chain of items that wait on it (itself included)."""
    height = {i.key: 1 for i in items}
    for item in reversed(items):  # plan order is topological, so dependants come later
        for dep in item.depends_on:
            height[dep] = max(height[dep], height[item.key] + 1)
    return height


def critical_path(items: list[KitItem]) -> int:
    """The longest chain of dependent items (the graph's depth)."""
    depth: dict[str, int] = {}
    for item in items:  # plan order is topological
        depth[item.key] = 1 + max((depth[d] for d in item.depends_on), default=0)
    return max(depth.values(), default=0)
