"""The two kinds of failure a handler can have: try again later, or give up and say why."""


class TemporaryError(Exception):
    """Worth retrying later: a 5xx, a rate limit, a lock held by someone else."""


class PermanentError(Exception):
    """Retrying cannot help: bad input or a refusal; record the reason and stop."""
