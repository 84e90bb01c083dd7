"""Email sequences: one typed asset holding a list of emails, each with its send day and its trigger.

A stage is a journey over days, not one message: a welcome sequence delivers the lead magnet the moment someone
signs up and then builds toward the entry offer; an onboarding sequence walks a new customer to a first result; a
review-ask sequence waits for that result. Each email says when it goes out (``send_day``: days after its
``trigger``), so the kit can export the journey as a calendar and a CSV a scheduler imports.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from generator.asset_base import ChannelBound, Part, Text, clamped

MAX_SEND_DAY = 365


class EmailMessage(Part):
    """One email of a sequence."""

    send_day: Annotated[int, clamped(0, MAX_SEND_DAY)] = Field(
        ge=0, le=MAX_SEND_DAY, description="Days after the trigger it goes out (0: the same day)"
    )
    trigger: Annotated[str, Text(60)] = Field(description="What starts the clock, e.g. signed up, first purchase")
    subject: Annotated[str, Text(90)]
    preview: Annotated[str, Text(140)] = Field(description="The line the inbox shows after the subject")
    body: Annotated[str, Text(400)]
    call_to_action: Annotated[str, Text(80)] = Field(description="The one thing the reader is asked to do")


class EmailSequence(ChannelBound):
    """Base of the sequences: a goal and three to five emails, in send order."""

    goal: Annotated[str, Text(200)] = Field(description="What the reader has done by the last email")
    messages: Annotated[list[EmailMessage], Field(min_length=3, max_length=5)] = Field(
        description="The emails, in the order they are sent"
    )

    @model_validator(mode="after")
    def _in_send_order(self) -> EmailSequence:
        """Emails sorted by send day (a model may list them in any order; the day is what counts)."""
        self.messages = sorted(self.messages, key=lambda m: m.send_day)
        return self


class NurtureSequence(EmailSequence):
    asset_type = "nurture_sequence"
    stage = "engage"
    label = "Nurture email sequence"


class WelcomeSequence(EmailSequence):
    asset_type = "welcome_sequence"
    stage = "subscribe"
    label = "Welcome sequence delivering the free gift"

    @model_validator(mode="after")
    def _delivers_at_once(self) -> WelcomeSequence:
        """The first email delivers what they signed up for, on day 0: a sequence that starts later is moved
        earlier whole (the gaps between its emails kept), not re-asked."""
        first = self.messages[0].send_day
        if first:
            self.messages = [m.model_copy(update={"send_day": m.send_day - first}) for m in self.messages]
        return self


class OnboardingSequence(EmailSequence):
    asset_type = "onboarding_sequence"
    stage = "excite"
    label = "Onboarding email sequence"


class UpsellSequence(EmailSequence):
    asset_type = "upsell_sequence"
    stage = "ascend"
    label = "Upgrade email sequence"


class ReviewSequence(EmailSequence):
    asset_type = "review_sequence"
    stage = "advocate"
    label = "Review-ask sequence after the first win"

    first_win: Annotated[str, Text(150)] = Field(
        description="The first result the customer gets; the first ask waits for it"
    )
