"""GitHub event handlers, one module per event family, composed in a fixed order."""

from handlers import (
    check_run,
    check_suite,
    ci_results,
    comments,
    delete,
    installation,
    merge_group,
    pull_request,
    push,
    repository,
)
from handlers.router import EventRouter, compose


def default_router() -> EventRouter:
    """Every handler module's routes, in the order they run for one delivery.

    Installation and repository bookkeeping first, so the events after them find the project.
    """
    return compose(
        [
            installation.router,
            repository.router,
            push.router,
            delete.router,
            pull_request.router,
            comments.router,
            check_run.router,
            check_suite.router,
            ci_results.router,
            merge_group.router,
        ]
    )
