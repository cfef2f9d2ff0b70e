"""The optional `eks` extra (the kubernetes client and boto3) that `make run` leaves out: a
setting that needs it fails at start in one line naming it, not with an ImportError later."""

from __future__ import annotations

from importlib.util import find_spec

from bot.env_values import SettingsError

EKS_INSTALL = "pip install 'autostack[eks]' (pinned: pip install -r requirements-eks.lock)"


def require_eks(setting: str, *modules: str) -> None:
    """Raise SettingsError naming the `eks` extra when `setting` needs a module not installed."""
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        raise SettingsError(
            f"{setting} needs {' and '.join(missing)}, from the `eks` extra, which is not installed: "
            f"{EKS_INSTALL}"
        )
