"""docs/commands.md is what the command declarations render today."""

from __future__ import annotations

from bot.cli import docs


def test_committed_commands_doc_is_current():
    committed = docs.DOC.read_text()
    assert committed == docs.render(), "docs/commands.md is stale: run `python -m bot.cli.docs`"


def test_doc_lists_every_pr_command_and_cli_verb():
    from handlers.commands.registry import COMMANDS

    text = docs.render()
    usages = [command.usage.replace("|", "\\|") for command in COMMANDS]
    assert all(f"| `{usage}` |" in text for usage in usages)
    for verb in ("serve", "login", "logout", "deploy", "ls", "logs", "rollback", "destroy"):
        assert f"### `autostack {verb}`" in text
    assert "| `--yes, -y` | do not ask for confirmation |" in text
