"""`previews.when`: which pull requests get a preview without anyone asking (pure)."""

from __future__ import annotations

from typing import Any

from deployer.config import PreviewsConfig


def label_names(pull: dict[str, Any]) -> set[str]:
    """The names of the labels a pull request carries."""
    return {label.get("name", "") for label in pull.get("labels") or [] if isinstance(label, dict)}


def deploys_on_its_own(previews: PreviewsConfig, pull: dict[str, Any], live: bool) -> bool:
    """Whether an opened or updated pull request deploys its head without a `/deploy`.

    `label:<name>`: only while it carries the label. `command`: only a preview someone
    already made with `/deploy` (`live`) follows the new commits. `always`: every one.
    """
    if previews.label is not None:
        return previews.label in label_names(pull)
    if previews.when == "command":
        return live
    return True


def why_not(previews: PreviewsConfig) -> str:
    """What to do to get a preview, for the log and the sticky comment."""
    if previews.label is not None:
        return f"previews need the label {previews.label!r}"
    return "previews start with a `/deploy` comment"
