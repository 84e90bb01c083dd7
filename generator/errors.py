"""The error tree. Every message says what went wrong and how to fix it.

Front doors turn these into their own form once, at the edge: exit code 2 in the CLI,
HTTP 4xx in the API, ``gr.Error`` in the UI.
"""

from __future__ import annotations


class CVJError(Exception):
    """Base class: a problem the user can fix, with a readable message."""

    http_status: int = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(CVJError):
    """Settings are missing or inconsistent."""


class ProfileError(CVJError):
    """A business profile is missing, unreadable or invalid."""

    http_status = 422


class UnknownStageError(CVJError):
    """A stage id or asset type that does not exist."""

    http_status = 404


class DocumentError(CVJError):
    """A document could not be read or parsed."""

    http_status = 422


class PromptError(CVJError):
    """A prompt file is invalid or a variable is missing."""

    http_status = 500


class ModelUnavailableError(CVJError):
    """The chat model or embeddings could not be reached or started."""

    http_status = 503


class ModelCrashedError(ModelUnavailableError):
    """The embedded model server died (a crash, a kill); the message says how and quotes its log."""


class GenerationError(CVJError):
    """The model answered, but never with a valid answer within the repair budget.

    The last completion, its problems and the number of attempts are kept as attributes so nothing the
    model wrote is lost; ``details`` carries the same for the API's error body.
    """

    http_status = 502

    def __init__(self, message: str, *, last_completion: str, problems: list[str], attempts: int) -> None:
        super().__init__(
            message, details={"problems": problems, "last_completion": last_completion, "attempts": attempts}
        )
        self.last_completion = last_completion
        self.problems = problems
        self.attempts = attempts
