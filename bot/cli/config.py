"""Which server and token a client verb uses, and the saved login (stdlib only).

Order: --server > $AUTOSTACK_URL for the URL; $AUTOSTACK_TOKEN > the local admin token in
./.autostack (or $AUTOSTACK_DATA_DIR), which `serve` writes on embedded defaults > the login
saved by `autostack login`. A saved token is only ever sent to the URL it was saved with, and the
local admin token only to a loopback server, so neither reaches a server it was not made for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from bot.cli.errors import USAGE, CliError


class Credentials(NamedTuple):
    """The server to talk to, the bearer token, and where the token came from (for messages)."""

    url: str
    token: str
    source: str


def config_path(env: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/autostack/config.json, or ~/.config/autostack/config.json."""
    base = env.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "autostack" / "config.json"


def local_url(env: Mapping[str, str]) -> str:
    """Where `make run` listens by default: loopback on $PORT (3000)."""
    return f"http://127.0.0.1:{env.get('PORT', '').strip() or '3000'}"


def normal_url(url: str) -> str:
    """The URL as given, without trailing slashes; CliError for one that is not http(s)://host."""
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"server URL {url!r} is not an http:// or https:// address", USAGE)
    return cleaned


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def read_saved(env: Mapping[str, str]) -> dict[str, str] | None:
    """The saved login ({"url", "token"}), None when there is none; CliError when unreadable."""
    path = config_path(env)
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path} ({exc}); run `autostack login` again") from None
    if not isinstance(saved, dict) or not all(isinstance(saved.get(k), str) for k in ("url", "token")):
        raise CliError(f"{path} is not a saved login; run `autostack login` again")
    return {"url": saved["url"], "token": saved["token"]}


def save(env: Mapping[str, str], url: str, token: str) -> Path:
    """Write the login readable by the user alone (folder 0700, file 0600), atomically."""
    path = config_path(env)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": url, "token": token}, out)
    os.replace(partial, path)
    return path


def _local_token(env: Mapping[str, str], cwd: Path) -> str | None:
    path = cwd / Path(env.get("AUTOSTACK_DATA_DIR", "").strip() or ".autostack") / "admin-token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def resolve(flag_url: str | None, env: Mapping[str, str], cwd: Path) -> Credentials:
    """The server and token for a client verb, in the order the module docstring gives."""
    given = flag_url or env.get("AUTOSTACK_URL", "").strip() or None
    url = normal_url(given) if given else None
    if token := env.get("AUTOSTACK_TOKEN", "").strip():
        saved = read_saved(env)
        return Credentials(url or (saved or {}).get("url") or local_url(env), token, "$AUTOSTACK_TOKEN")
    local = _local_token(env, cwd)
    if local and (url is None or _loopback(url)):
        return Credentials(url or local_url(env), local, "the local admin token")
    saved = read_saved(env)
    if saved and (url is None or url == normal_url(saved["url"])):
        return Credentials(normal_url(saved["url"]), saved["token"], f"the login saved in {config_path(env)}")
    where = url or local_url(env)
    raise CliError(
        f"no API token for {where}: run `autostack login --url {where}`, set AUTOSTACK_TOKEN, "
        "or run this next to the `.autostack/` folder of `make run`"
    )
