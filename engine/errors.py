"""What a service refuses, in terms the web layer turns into messages and status codes."""

from __future__ import annotations


class ChallengeError(Exception):
    """Base for refusals. Nothing has been changed when one is raised."""


class NotFound(ChallengeError):
    pass


class Forbidden(ChallengeError):
    pass


class Conflict(ChallengeError):
    """The task was completed, claimed by someone else, or changed since the page was loaded."""


class Invalid(ChallengeError):
    def __init__(self, errors: dict[str, str], message: str = "Some answers need correcting.") -> None:
        super().__init__(message)
        self.errors = errors


class StepFailed(ChallengeError):
    """The procedure itself failed while moving the case on; the case was left as it was."""


class Refused(ChallengeError):
    """A login, session or token that does not match an active account."""


class Throttled(ChallengeError):
    """Too many failed logins for an account or from an address: refused until `until`."""

    def __init__(self, message: str, until) -> None:
        super().__init__(message)
        self.until = until


class InvalidProcedure(ValueError):
    """A diagram or procedure that cannot be published, with a message for the process owner."""
