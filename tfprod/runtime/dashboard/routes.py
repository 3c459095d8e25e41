"""The dashboard's static files at `/dashboard/`, served by the controller without a token.

The files (hand-written HTML, CSS and JavaScript, no build step) hold no data: the page asks
the token-protected controller API for everything it shows, with the token the person typed
or gave in the URL fragment (`#token=...`, which a browser never sends to a server). They are
read once, when the routes are added, and served with a Content-Security-Policy that allows
only this origin (no CDN, no inline script) and no referrer.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

PREFIX = "/dashboard"
INDEX = "index.html"
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
}
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def static_files() -> dict[str, tuple[bytes, str]]:
    """File name -> (content, content type) of every file the dashboard serves."""
    folder = resources.files("tfprod.runtime.dashboard") / "static"
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in TYPES:
            files[entry.name] = (entry.read_bytes(), TYPES[suffix])
    return files


def add_dashboard(app: web.Application) -> None:
    """Serves the dashboard at `/dashboard/` (and redirects `/dashboard` there)."""
    files = static_files()

    async def redirect(_request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(PREFIX + "/")

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info.get("name") or INDEX
        if name not in files:
            raise web.HTTPNotFound(text=f"no dashboard file {name!r}")
        body, content_type = files[name]
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=HEADERS)

    app.router.add_get(PREFIX, redirect)
    app.router.add_get(PREFIX + "/", serve)
    app.router.add_get(PREFIX + "/{name}", serve)
