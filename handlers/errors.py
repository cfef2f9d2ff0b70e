"""The two kinds of failure a handler can have: try again later, or give up and say why."""


class TemporaryError(Exception):
    """Worth retrying later: a 5xx, a rate limit, a lock held by someone else."""

    # seconds until trying again can work (a rate limit's reset), when the error knows
    retry_after: float | None = None


class PermanentError(Exception):
    """Retrying cannot help: bad input or a refusal; record the reason and stop."""
