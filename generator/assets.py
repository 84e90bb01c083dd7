"""One pydantic model per asset type: the contract between the prompt and the model.

Every string has a ``maxLength`` and every list a ``maxItems``: a grammar-constrained local model
then cannot ramble past them, and a capable model is told the shape it must return. The base and the channel
rules are ``asset_base``'s; the newer types (sequences, channel-bound messages, pages) have modules of their own,
and every type is registered here, in ``ASSET_TYPES``.
"""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, create_model, model_validator

from generator.asset_base import Asset, Items, Text, channel_limits
from generator.asset_channels import LinkedInAd, MetaAd, SmsMessage, WinBackEmail
from generator.asset_pages import EntryOfferPage, LeadMagnetPage, OrderBump
from generator.asset_sequences import (
    NurtureSequence,
    OnboardingSequence,
    ReviewSequence,
    UpsellSequence,
    WelcomeSequence,
)
from generator.errors import UnknownStageError
from generator.stages import parse_stage_id

Channel = Literal["facebook", "instagram", "linkedin", "x"]


def _clamp_duration(value: object) -> object:
    """Grammars cannot bound integers: a 300-second 'short' video is clamped, not re-asked."""
    return min(max(value, 10), 180) if isinstance(value, int) else value


class SocialPost(Asset):
    asset_type = "social_post"
    stage = "aware"
    label = "Awareness social post"

    channel: Channel = Field(description="facebook, instagram, linkedin or x")
    hook: Annotated[str, Text(120)] = Field(description="The first line that stops the scroll")
    body: Annotated[str, Text(2000)] = Field(description="The post: informs or entertains; no purchase ask")
    call_to_action: Annotated[str, Text(100)] = Field(description="A soft next step: follow, read, watch, save")
    hashtags: Annotated[list[str], Items(40, 5, 0)] = Field(default_factory=list)

    def published_text(self) -> str:
        return "\n\n".join([self.hook, self.body, self.call_to_action, " ".join(self.hashtags)]).strip()

    @model_validator(mode="after")
    def _fits_channel(self) -> "SocialPost":
        limit = channel_limits()[self.channel]
        length = len(self.published_text())
        if length > limit:
            raise ValueError(f"the post is {length} characters; {self.channel} allows {limit}: shorten the body")
        return self

    @classmethod
    def for_channel(cls, channel: str | None) -> type[Asset]:
        """A variant whose schema caps the body at what the channel allows, so a grammar enforces it."""
        if channel not in channel_limits():
            return cls
        limit = channel_limits()[channel]
        hook, cta = min(120, limit // 5), min(100, limit // 7)
        body = max(60, limit - hook - cta - 3 * 16 - 6)
        # A Literal of a value known only at run time: a real type to pydantic, not a static type to mypy.
        only_this_channel: Any = Literal[channel]
        return create_model(
            f"SocialPost_{channel}",
            __base__=cls,
            channel=(only_this_channel, Field(description=f"always '{channel}'")),
            hook=(Annotated[str, Text(hook)], Field(description="The first line that stops the scroll")),
            body=(Annotated[str, Text(body)], Field(description="The post: informs or entertains; no purchase ask")),
            call_to_action=(
                Annotated[str, Text(cta)],
                Field(description="A soft next step: follow, read, watch, save"),
            ),
            hashtags=(Annotated[list[str], Items(15, 3, 0)], Field(default_factory=list)),
        )


class SearchAd(Asset):
    asset_type = "search_ad"
    stage = "aware"
    label = "Google search ad"

    keywords: Annotated[list[str], Items(60, 8)] = Field(description="Search terms the ad should show for")
    headlines: Annotated[list[str], Items(30, 5, 3)] = Field(description="Up to 30 characters each")
    descriptions: Annotated[list[str], Items(90, 3, 2)] = Field(description="Up to 90 characters each")
    display_path: Annotated[str, Text(30)] = Field(description="e.g. coffee/beginners")


class ContentIdea(Asset):
    asset_type = "content_idea"
    stage = "aware"
    label = "Blog or video idea"

    format: Annotated[str, Text(40)] = Field(description="blog post or short video")
    title: Annotated[str, Text(100)]
    hook: Annotated[str, Text(200)] = Field(description="The opening line or first three seconds")
    key_points: Annotated[list[str], Items(200, 5)]
    why_strangers_care: Annotated[str, Text(300)]


class NewsletterIssue(Asset):
    asset_type = "newsletter_issue"
    stage = "engage"
    label = "Engagement newsletter issue"

    subject_line: Annotated[str, Text(90)]
    preview_text: Annotated[str, Text(140)]
    opening: Annotated[str, Text(400)] = Field(description="A friendly opening that speaks to the reader")
    main_points: Annotated[list[str], Items(300, 5)] = Field(description="The useful content: tips, story, how-to")
    question_for_reader: Annotated[str, Text(200)] = Field(description="Invites a reply or comment")


class ArticleOutline(Asset):
    asset_type = "article_outline"
    stage = "engage"
    label = "Article outline"

    title: Annotated[str, Text(120)]
    angle: Annotated[str, Text(250)] = Field(description="Why this matters to the reader now")
    sections: Annotated[list[str], Items(200, 7)] = Field(description="Section headings with one line each")
    takeaway: Annotated[str, Text(250)]
    invitation: Annotated[str, Text(200)] = Field(description="Invites a comment, reply or share")


class VideoScript(Asset):
    asset_type = "video_script"
    stage = "engage"
    label = "Short video script"

    title: Annotated[str, Text(100)]
    hook: Annotated[str, Text(150)] = Field(description="The first three seconds")
    scenes: Annotated[list[str], Items(250, 6)] = Field(description="What is seen and said, scene by scene")
    closing_line: Annotated[str, Text(200)] = Field(description="Invites a comment or follow")
    duration_seconds: Annotated[int, BeforeValidator(_clamp_duration)] = Field(ge=10, le=180)


class CommunityPost(Asset):
    asset_type = "community_post"
    stage = "engage"
    label = "Community post or poll"

    post: Annotated[str, Text(600)]
    poll_question: Annotated[str, Text(150)]
    poll_options: Annotated[list[str], Items(60, 5, 2)]
    follow_up_comment: Annotated[str, Text(300)] = Field(description="What the business posts after votes come in")


class LeadMagnet(Asset):
    asset_type = "lead_magnet"
    stage = "subscribe"
    label = "Lead magnet and opt-in page"

    title: Annotated[str, Text(100)]
    format: Annotated[str, Text(60)] = Field(
        description="checklist, cheat sheet, template, quiz, video, mini-course..."
    )
    problem: Annotated[str, Text(250)] = Field(description="The one specific problem it solves")
    promise: Annotated[str, Text(200)] = Field(description="The one big result the reader gets")
    outline: Annotated[list[str], Items(150, 7)]
    optin_headline: Annotated[str, Text(120)]
    optin_bullets: Annotated[list[str], Items(150, 5)]
    form_cta: Annotated[str, Text(50)] = Field(description="The button text on the form")
    thank_you_message: Annotated[str, Text(300)]


class EntryOffer(Asset):
    asset_type = "entry_offer"
    stage = "convert"
    label = "Entry-point offer"

    name: Annotated[str, Text(100)]
    whats_included: Annotated[list[str], Items(150, 6)]
    price: float = Field(ge=0, description="Low next to the core offer; 0 if it costs only time")
    time_commitment: Annotated[str, Text(100)]
    value_framing: Annotated[str, Text(300)] = Field(description="Why it is worth far more than it costs")
    risk_reducer: Annotated[str, Text(200)] = Field(description="Guarantee or promise that removes the risk")
    sales_copy: Annotated[str, Text(900)]
    call_to_action: Annotated[str, Text(80)]


class OnboardingWow(Asset):
    asset_type = "onboarding_wow"
    stage = "excite"
    label = "Onboarding wow"

    welcome_message: Annotated[str, Text(600)]
    quick_start_steps: Annotated[list[str], Items(200, 5)]
    first_quick_win: Annotated[str, Text(300)] = Field(description="The first result they can get today")
    bonus_or_surprise: Annotated[str, Text(300)] = Field(description="Something extra they did not expect")


class AscensionOffer(Asset):
    asset_type = "ascension_offer"
    stage = "ascend"
    label = "Core offer or upsell"

    offer_name: Annotated[str, Text(100)]
    ladder_position: Literal["core offer", "upsell", "bundle", "subscription"]
    price: float = Field(ge=0)
    why_now: Annotated[str, Text(300)]
    price_anchor: Annotated[str, Text(250)] = Field(description="What it compares to, so the price feels right")
    email_subject: Annotated[str, Text(90)]
    email_body: Annotated[str, Text(1000)]
    page_copy: Annotated[str, Text(1200)] = Field(description="Offer page: headline, benefits, price, call to action")


class ReviewRequest(Asset):
    asset_type = "review_request"
    stage = "advocate"
    label = "Review and testimonial request"

    timing: Annotated[str, Text(200)] = Field(description="When to ask, relative to the customer's win")
    channel: Annotated[str, Text(60)] = Field(description="email, SMS, in person, in app...")
    review_site: Annotated[str, Text(60)] = Field(description="Where the review should go")
    the_ask: Annotated[str, Text(200)] = Field(description="The one specific thing asked, in one sentence")
    message: Annotated[str, Text(700)]
    ugc_prompt: Annotated[str, Text(250)] = Field(description="A prompt that makes sharing a photo or story easy")


class ReferralProgram(Asset):
    asset_type = "referral_program"
    stage = "promote"
    label = "Referral program"

    program_name: Annotated[str, Text(80)]
    mechanism: Literal["give-get", "commission", "tiered", "points"]
    sharer_reward: Annotated[str, Text(150)]
    friend_reward: Annotated[str, Text(150)]
    rules: Annotated[list[str], Items(200, 6)]
    sharer_invite: Annotated[str, Text(500)] = Field(description="Copy inviting a customer to share")
    friend_message: Annotated[str, Text(400)] = Field(description="The message the friend receives")
    tracking: Annotated[str, Text(200)] = Field(description="How referrals are tracked: codes, links...")


ASSET_TYPES: dict[str, type[Asset]] = {
    cls.asset_type: cls
    for cls in (
        SocialPost,
        SearchAd,
        ContentIdea,
        NewsletterIssue,
        ArticleOutline,
        VideoScript,
        CommunityPost,
        LeadMagnet,
        EntryOffer,
        OnboardingWow,
        AscensionOffer,
        ReviewRequest,
        ReferralProgram,
        # Added after each stage's first type, which stays its default (the kit drafts the defaults).
        MetaAd,
        LinkedInAd,
        NurtureSequence,
        WelcomeSequence,
        LeadMagnetPage,
        EntryOfferPage,
        OrderBump,
        SmsMessage,
        OnboardingSequence,
        UpsellSequence,
        WinBackEmail,
        ReviewSequence,
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
