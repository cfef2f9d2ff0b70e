"""Turns deployer events into what people see on GitHub: check runs, statuses, Deployments,
the sticky pull-request comment and reactions to commands."""
