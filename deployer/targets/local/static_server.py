"""The local target's production static file server: uvicorn + Starlette, with SPA fallback.

Run as `python -m deployer.targets.local.static_server FOLDER --port N [--spa]`. With --spa a path
that names no file (a client-side route such as /settings) is answered with index.html; a
missing asset (a path with a file extension) is still a 404, so broken links stay visible.
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

import uvicorn
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# bundlers put a content hash in these file names, so they never change under the same name
_HASHED_FOLDERS = ("assets/", "static/", "_next/static/")


class SiteFiles(StaticFiles):
    """StaticFiles with index.html for unknown routes and long caching of hashed assets."""

    def __init__(self, directory: Path, spa: bool) -> None:
        super().__init__(directory=directory, html=True)
        self.spa = spa
        self.index = directory / "index.html"

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at `path`, or index.html for a client-side route of a single-page app."""
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            # served bare, with no exception middleware around it to turn this into an answer
            if exc.status_code == 404 and self._is_route(path):
                return FileResponse(self.index, headers={"cache-control": "no-cache"})
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        if response.status_code == 404 and self._is_route(path):
            return FileResponse(self.index, headers={"cache-control": "no-cache"})
        if path.startswith(_HASHED_FOLDERS):
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        elif "cache-control" not in response.headers:
            response.headers["cache-control"] = "no-cache"
        return response

    def _is_route(self, path: str) -> bool:
        return self.spa and self.index.is_file() and not PurePosixPath(path).suffix


def main() -> None:
    """Serve FOLDER on 127.0.0.1:PORT until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spa", action="store_true", help="answer unknown routes with index.html")
    args = parser.parse_args()
    app = SiteFiles(args.folder.resolve(), args.spa)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        workers=1,  # async, one process suffices; WEB_CONCURRENCY is meant for the apps
        server_header=False,
        headers=[("server", "autostack-static")],
    )


if __name__ == "__main__":
    main()
