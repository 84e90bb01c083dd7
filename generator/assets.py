"""One pydantic model per asset type: the contract between the prompt and the model.

Every string has a ``maxLength`` and every list a ``maxItems``: a grammar-constrained local model
then cannot ramble past them, and a capable model is told the shape it must return.
"""

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from generator.errors import UnknownStageError
from generator.stages import StageId, parse_stage_id


def Text(max_length: int) -> type[str]:
    """A non-empty, stripped string with a length cap."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)]  # type: ignore[return-value]


def Items(max_length: int, max_items: int, min_items: int = 1) -> object:
    return Annotated[list[Text(max_length)], Field(min_length=min_items, max_length=max_items)]  # type: ignore[valid-type]


class Asset(BaseModel):
    """Base of every asset type: what stage it serves and how it reads as plain text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_type: ClassVar[str]
    stage: ClassVar[StageId]
    label: ClassVar[str]

    def as_text(self) -> str:
        """The asset as readable text, field by field (used for eval and display)."""
        parts: list[str] = []
        for name, value in self.model_dump(exclude_none=True).items():
            title = name.replace("_", " ").capitalize()
            if isinstance(value, list):
                parts.append(f"{title}:\n" + "\n".join(f"- {v}" for v in value))
            else:
                parts.append(f"{title}: {value}")
        return "\n".join(parts)


class SocialPost(Asset):
    asset_type = "social_post"
    stage = "aware"
    label = "Awareness social post"

    channel: Text(40) = Field(description="Where it runs, e.g. instagram, facebook, linkedin, x")
    hook: Text(120) = Field(description="The first line that stops the scroll")
    body: Text(600) = Field(description="The post: informs or entertains; no purchase ask")
    call_to_action: Text(100) = Field(description="A soft next step: follow, read, watch, save")
    hashtags: list[Text(40)] = Field(default_factory=list, max_length=5)


class NewsletterIssue(Asset):
    asset_type = "newsletter_issue"
    stage = "engage"
    label = "Engagement newsletter issue"

    subject_line: Text(90)
    preview_text: Text(140)
    opening: Text(400) = Field(description="A friendly opening that speaks to the reader")
    main_points: Items(300, 5) = Field(description="The useful content: tips, story, how-to")
    question_for_reader: Text(200) = Field(description="Invites a reply or comment")


class LeadMagnet(Asset):
    asset_type = "lead_magnet"
    stage = "subscribe"
    label = "Lead magnet and opt-in page"

    title: Text(100)
    format: Text(60) = Field(description="checklist, cheat sheet, template, quiz, video, mini-course...")
    problem: Text(250) = Field(description="The one specific problem it solves")
    promise: Text(200) = Field(description="The one big result the reader gets")
    outline: Items(150, 7)
    optin_headline: Text(120)
    optin_bullets: Items(150, 5)
    form_cta: Text(50) = Field(description="The button text on the form")
    thank_you_message: Text(300)


class EntryOffer(Asset):
    asset_type = "entry_offer"
    stage = "convert"
    label = "Entry-point offer"

    name: Text(100)
    whats_included: Items(150, 6)
    price: float = Field(ge=0, description="Low next to the core offer; 0 if it costs only time")
    time_commitment: Text(100)
    value_framing: Text(300) = Field(description="Why it is worth far more than it costs")
    risk_reducer: Text(200) = Field(description="Guarantee or promise that removes the risk")
    sales_copy: Text(900)
    call_to_action: Text(80)


class OnboardingWow(Asset):
    asset_type = "onboarding_wow"
    stage = "excite"
    label = "Onboarding wow"

    welcome_message: Text(600)
    quick_start_steps: Items(200, 5)
    first_quick_win: Text(300) = Field(description="The first result they can get today")
    bonus_or_surprise: Text(300) = Field(description="Something extra they did not expect")


class AscensionOffer(Asset):
    asset_type = "ascension_offer"
    stage = "ascend"
    label = "Core offer or upsell"

    offer_name: Text(100)
    ladder_position: Text(60) = Field(description="core offer, upsell, bundle or subscription")
    price: float = Field(ge=0)
    why_now: Text(300)
    price_anchor: Text(250) = Field(description="What it compares to, so the price feels right")
    email_subject: Text(90)
    email_body: Text(1000)


class ReviewRequest(Asset):
    asset_type = "review_request"
    stage = "advocate"
    label = "Review and testimonial request"

    timing: Text(200) = Field(description="When to ask, relative to the customer's win")
    channel: Text(60) = Field(description="email, SMS, in person, in app...")
    review_site: Text(60) = Field(description="Where the review should go")
    message: Text(700)
    ugc_prompt: Text(250) = Field(description="A prompt that makes sharing a photo or story easy")


class ReferralProgram(Asset):
    asset_type = "referral_program"
    stage = "promote"
    label = "Referral program"

    program_name: Text(80)
    mechanism: Text(80) = Field(description="give-get, commission, tiered rewards...")
    sharer_reward: Text(150)
    friend_reward: Text(150)
    rules: Items(200, 6)
    sharer_invite: Text(500) = Field(description="Copy inviting a customer to share")
    friend_message: Text(400) = Field(description="The message the friend receives")
    tracking: Text(200) = Field(description="How referrals are tracked: codes, links...")


ASSET_TYPES: dict[str, type[Asset]] = {
    cls.asset_type: cls
    for cls in (
        SocialPost,
        NewsletterIssue,
        LeadMagnet,
        EntryOffer,
        OnboardingWow,
        AscensionOffer,
        ReviewRequest,
        ReferralProgram,
    )
}


def asset_types_for(stage: str) -> list[type[Asset]]:
    """The asset types that serve a stage, the default first."""
    stage_id = parse_stage_id(stage)
    return [cls for cls in ASSET_TYPES.values() if cls.stage == stage_id]


def resolve_asset_type(stage: str, asset_type: str | None = None) -> type[Asset]:
    """The requested asset type for a stage, or the stage's default."""
    choices = asset_types_for(stage)
    if asset_type is None:
        return choices[0]
    for cls in choices:
        if cls.asset_type == asset_type.strip().lower().replace("-", "_"):
            return cls
    raise UnknownStageError(
        f"Unknown asset type '{asset_type}' for stage '{stage}'. "
        f"Choose one of: {', '.join(c.asset_type for c in choices)}.",
        details={"asset_type": asset_type, "valid": [c.asset_type for c in choices]},
    )
