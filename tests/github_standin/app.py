"""The stand-in's HTTP side: authenticate like GitHub, validate against the OpenAPI
description, enforce GitHub's limits, answer with documented shapes, record every call."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.github_standin.answers import Answer, Refusal
from tests.github_standin.manifests import manifest_errors, refusal_body
from tests.github_standin.openapi import OpenAPI, Operation, github_openapi
from tests.github_standin.routes import HANDLERS
from tests.github_standin.state import Call, State

CODELOAD = "/_codeload/"
OAUTH = "/login/oauth/"
MANIFEST_FORM = "/settings/apps/new"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
    return JSONResponse(body, status_code=status, headers=headers)


def _check_jwt(state: State, header: str) -> str | None:
    """Why the App JWT is refused, or None when GitHub would accept it."""
    token = header.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(
            token, state.public_key, algorithms=["RS256"], options={"require": ["exp", "iat", "iss"]}
        )
    except jwt.PyJWTError as exc:
        return f"A JSON web token could not be decoded ({type(exc).__name__})"
    if str(claims["iss"]) != str(state.app_id):
        return "'Issuer' claim ('iss') must be an Integer"
    if claims["exp"] - time.time() > 600:
        return "'Expiration time' claim ('exp') is too far in the future"
    return None


def _check_token(state: State, header: str) -> int | None:
    """The installation the token belongs to, or None when it is unknown or expired."""
    for prefix in ("Bearer ", "token "):
        if header.startswith(prefix):
            entry = state.tokens.get(header[len(prefix) :].strip())
            if entry is not None and entry[1] > time.time():
                return entry[0]
    return None


def _oauth(state: State, spec: OpenAPI, path: str, query: dict[str, str], form: dict[str, str]) -> Response:
    """github.com's web flows (not part of the REST API): OAuth, authorizing as `state.oauth_login`
    without a consent page and exchanging the code for a user token like GitHub does; and the
    App manifest form, refusing what GitHub's manifest rules refuse."""
    if path == "/login/oauth/authorize":
        if query.get("client_id") not in state.oauth_clients or state.oauth_login is None:
            return _error(404, "Not Found")
        code = secrets.token_hex(10)
        state.oauth_codes[code] = state.oauth_login
        separator = "&" if "?" in query["redirect_uri"] else "?"
        return RedirectResponse(
            f"{query['redirect_uri']}{separator}code={code}&state={query.get('state', '')}", 302
        )
    if path == "/login/oauth/access_token":
        if state.oauth_clients.get(form.get("client_id", "")) != form.get("client_secret"):
            return JSONResponse({"error": "incorrect_client_credentials"})
        login = state.oauth_codes.pop(form.get("code", ""), None)
        if login is None:
            return JSONResponse({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_urlsafe(27)
        state.user_tokens[token] = login
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": ""})
    if path == MANIFEST_FORM:
        # GitHub shows the new App's page; the stand-in creates it at once and goes back
        try:
            manifest = json.loads(form.get("manifest", ""))
        except ValueError:
            manifest = None
        errors = manifest_errors(manifest, spec)
        if errors:
            state.violations.append(f"{MANIFEST_FORM}: " + "; ".join(errors))
            return JSONResponse(refusal_body(errors), status_code=422)
        code = secrets.token_hex(10)
        state.manifest_codes[code] = manifest
        return RedirectResponse(f"{manifest['redirect_url']}?code={code}&state={query.get('state', '')}", 302)
    return _error(404, "Not Found")


def build_app(state: State, openapi: OpenAPI | None = None) -> Starlette:
    """The ASGI app serving `state`."""
    spec = openapi or github_openapi()

    async def endpoint(request: Request) -> Response:
        method, path = request.method, request.url.path
        if path.startswith(OAUTH) or path == MANIFEST_FORM:
            form = {key: str(value) for key, value in (await request.form()).items()}
            response = _oauth(state, spec, path, dict(request.query_params), form)
            with state.lock:
                state.calls.append(Call(method, path, None, response.status_code, dict(request.query_params)))
            return response
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _error(400, "Problems parsing JSON")
        if (latency := state.latency(method, path)) > 0:
            await asyncio.sleep(latency)
        response = _answer(state, spec, request, method, path, body)
        with state.lock:
            state.calls.append(Call(method, path, body, response.status_code, dict(request.query_params)))
        return response

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


def _answer(state: State, spec: OpenAPI, request: Request, method: str, path: str, body: Any) -> Response:
    if path.startswith(CODELOAD):
        repo_ref = path[len(CODELOAD) :].rsplit("/", 1)
        data = state.tarballs.get((repo_ref[0], repo_ref[1])) if len(repo_ref) == 2 else None
        if data is None:
            return _error(404, "Not Found")
        return Response(data, media_type="application/x-gzip")
    operation = spec.operation(method, path)
    if operation is None:
        state.violations.append(f"{method} {path}: no such operation in GitHub's API")
        return _error(404, "Not Found")
    params = operation.path_values(path)
    refused = _refusal(spec, operation, request, params, body)
    if refused is not None:
        status, errors = refused
        state.violations.append(f"{method} {path}: " + "; ".join(errors))
        return _error(status, "Invalid request.\n\n" + "\n".join(errors))
    for fault in state.faults:
        if fault.times > 0 and fault.method == method and fault.path.search(path):
            fault.times -= 1
            return _error(fault.status, fault.message, fault.headers)
    auth = request.headers.get("authorization", "")
    installation: int | None = None
    login: str | None = None
    if path.startswith("/app-manifests/"):
        pass  # the manifest conversion is authenticated by its one-time code alone
    elif path.startswith("/app/"):
        refusal = _check_jwt(state, auth)
        if refusal is not None:
            return _error(401, refusal)
    elif path == "/user" or path.startswith("/user/"):
        login = state.user_tokens.get(auth.removeprefix("Bearer ").removeprefix("token ").strip())
        if login is None:
            return _error(401, "Bad credentials")
    else:
        installation = _check_token(state, auth)
        if installation is None:
            return _error(401, "Bad credentials")
        with state.lock:
            limited = state.limits.check(installation, method, path)
        if limited is not None:
            return _error(403, limited[0], limited[1])
    handler: Callable[..., Answer] | None = HANDLERS.get((method, operation.template))
    if handler is None:
        state.violations.append(f"{method} {operation.template}: the stand-in does not serve it")
        return _error(501, "Not implemented by the stand-in")
    if login is not None:
        params["_login"] = login
    try:
        with state.lock:
            answer = handler(state, spec, operation, params, body, dict(request.query_params))
    except Refusal as refusal:
        state.violations.append(f"{method} {path}: {refusal}")
        return _error(422, str(refusal))
    # the stand-in's own answer, held to the same description: a test must not pass on a shape
    # GitHub never sends
    wrong = spec.status_errors(operation, 302 if answer.redirect else answer.status)
    if not wrong and not answer.redirect:
        wrong = spec.answer_errors(operation, answer.status, answer.body)
    if wrong:
        state.violations.append(f"the stand-in's answer to {method} {path}: " + "; ".join(wrong))
    if answer.redirect:
        return RedirectResponse(answer.redirect, status_code=302)
    headers = {**state.limits.headers(installation), **answer.headers} if installation else answer.headers
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def _refusal(
    spec: OpenAPI, operation: Operation, request: Request, params: dict[str, str], body: Any
) -> tuple[int, list[str]] | None:
    """The status and reasons GitHub would refuse the request with, or None."""
    headers = spec.header_errors(operation, request.headers, body is not None)
    if headers:
        return 415 if any(e.startswith(("Content-Type", "Accept")) for e in headers) else 400, headers
    errors = spec.parameter_errors(operation, params, request.query_params.multi_items())
    errors += spec.body_errors(operation, body)
    return (422, errors) if errors else None
