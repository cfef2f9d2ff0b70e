"""`previews.when`: which pull requests deploy on their own (pure), and how the key is validated."""

from __future__ import annotations

import pytest

from deployer.config import ConfigError, PreviewsConfig, parse_config
from handlers.preview_modes import deploys_on_its_own

LABELED = {"labels": [{"name": "bug"}, {"name": "deploy preview"}]}
UNLABELED = {"labels": [{"name": "bug"}]}


@pytest.mark.parametrize(
    ("when", "pull", "live", "expected"),
    [
        ("always", UNLABELED, False, True),
        ("always", {}, True, True),
        ("label:deploy preview", LABELED, False, True),
        ("label:deploy preview", UNLABELED, True, False),  # the label went: no more updates
        ("label:deploy preview", {"labels": None}, False, False),
        ("label:Deploy preview", LABELED, False, False),  # label names match exactly
        ("command", LABELED, False, False),  # nobody asked yet
        ("command", UNLABELED, True, True),  # a `/deploy` made it: it follows new commits
    ],
)
def test_deploys_on_its_own(when: str, pull: dict, live: bool, expected: bool):
    assert deploys_on_its_own(PreviewsConfig(when=when), pull, live) is expected


@pytest.mark.parametrize(
    ("text", "when", "label"),
    [
        ("{}", "always", None),
        ("previews: {when: command}", "command", None),
        ("previews: {when: 'label:preview'}", "label:preview", "preview"),
        ("previews: {when: 'label:deploy preview'}", "label:deploy preview", "deploy preview"),
    ],
)
def test_valid_modes(text: str, when: str, label: str | None):
    previews = parse_config(text).previews
    assert (previews.when, previews.label) == (when, label)


@pytest.mark.parametrize("when", ["sometimes", "label:", "label: x", "Always", "label:" + "x" * 51])
def test_bad_modes_name_the_key_and_the_choices(when: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"previews: {{when: '{when}'}}")
    assert "previews.when" in str(caught.value)
    assert "always, command or label:<name> like label:preview" in str(caught.value)
