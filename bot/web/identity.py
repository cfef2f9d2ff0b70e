"""GitHub's OAuth web flow for the App's client: the authorize URL, the code exchange, and who
the user is (login, id, organisation roles). httpx only: these are user-token calls."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx


class IdentityError(Exception):
    """GitHub refused the sign-in; the message says at which step."""


def github_web_url(api_url: str) -> str:
    """github.com for api.github.com, the server for GHES (`…/api/v3`), else the API host
    itself (a stand-in serves both)."""
    if urlsplit(api_url).hostname == "api.github.com":
        return "https://github.com"
    return api_url.removesuffix("/api/v3").rstrip("/")


def authorize_url(api_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send the browser to ask GitHub who the user is."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "state": state})
    return f"{github_web_url(api_url)}/login/oauth/authorize?{query}"


@dataclass(frozen=True)
class GitHubUser:
    """The signed-in GitHub user."""

    id: int
    login: str


class Identity:
    """Calls made with the user's own token right after sign-in (the token is then dropped)."""

    def __init__(self, api_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=10.0)

    async def exchange(self, client_id: str, client_secret: str, code: str, redirect_uri: str) -> str:
        """The user access token for an authorization `code`."""
        try:
            response = await self._client.post(
                f"{github_web_url(self.api_url)}/login/oauth/access_token",
                data={
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"accept": "application/json"},
            )
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityError(f"exchanging the sign-in code with GitHub failed: {exc}") from exc
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise IdentityError(f"GitHub refused the sign-in code: {data.get('error', 'no token')}")
        return str(token)

    async def _get(self, token: str, path: str) -> httpx.Response:
        try:
            return await self._client.get(
                self.api_url + path,
                headers={"authorization": f"Bearer {token}", "accept": "application/vnd.github+json"},
            )
        except httpx.HTTPError as exc:
            raise IdentityError(f"GET {path} failed: {exc}") from exc

    async def user(self, token: str) -> GitHubUser:
        """The user the token belongs to."""
        response = await self._get(token, "/user")
        if response.status_code != 200:
            raise IdentityError(f"GET /user answered {response.status_code}")
        data = response.json()
        return GitHubUser(int(data["id"]), str(data["login"]))

    async def org_role(self, token: str, org: str) -> str | None:
        """'admin' or 'member' for an active membership of `org`, else None."""
        response = await self._get(token, f"/user/memberships/orgs/{org}")
        if response.status_code != 200:
            return None
        data = response.json()
        return str(data["role"]) if data.get("state") == "active" else None

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
