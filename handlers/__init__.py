"""GitHub event handlers, one module per event family, composed in a fixed order."""

from handlers import installation
from handlers.router import Router, compose


def default_router() -> Router:
    """Every handler module's routes, in the order they run for one delivery."""
    return compose([installation.router])
