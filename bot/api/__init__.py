"""The one JSON API under /api/v1, for the page's scripts, the CLI and anyone's."""
