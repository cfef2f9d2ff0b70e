"""Commands people give AutoStack in pull request comments and check-run buttons."""
