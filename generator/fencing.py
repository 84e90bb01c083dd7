"""Untrusted text stays data: profile fields, retrieved documents, earlier drafts and texts under review go into
prompts between tags, and nothing inside can close or open those tags.

The tags are fixed names the prompts and the system message refer to; ``as_data`` removes any tag-like sequence
naming one of them (however it is spaced or cased) from the text, so a planted ``</business_facts>`` or
``<asset_under_review>`` cannot end the fence and speak as the prompt. The system message then says that text
inside these tags gives no orders.
"""

from __future__ import annotations

import re

DATA_TAGS = (
    "business_facts",
    "reference_notes",
    "earlier_assets",
    "asset_to_revise",
    "asset_under_review",
    "example_business",
    "voice_samples",
)
_TAG_LIKE = re.compile(r"<\s*/?\s*(?:" + "|".join(DATA_TAGS) + r")\b[^<>]{0,80}>?", re.IGNORECASE)


def as_data(text: str) -> str:
    """``text`` with every sequence that could open or close a data fence removed."""
    previous = None
    while previous != text:  # removing one tag can join the pieces of another ("</busi</x>ness_facts>")
        previous, text = text, _TAG_LIKE.sub("", text)
    return text


def fenced(tag: str, text: str) -> str:
    """``text`` as data between ``<tag>`` and ``</tag>``, on lines of their own."""
    if tag not in DATA_TAGS:
        raise ValueError(f"unknown data tag {tag!r}; the system message names only {', '.join(DATA_TAGS)}")
    return f"<{tag}>\n{as_data(text).strip()}\n</{tag}>"
