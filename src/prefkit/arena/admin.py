"""Admin routes: upload candidates, queue or verdicts, export votes, reset.

Each needs the token from ``PREFKIT_ARENA_ADMIN_TOKEN`` (compared in constant
time). Scripts send it as ``Authorization: Bearer TOKEN``, which a browser
never adds by itself to a cross-site request; the admin page's forms send it
as a field and must also carry the voter's CSRF token.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from prefkit.arena.pages import page, set_voter, voter_id
from prefkit.arena.security import admin_ok, csrf_ok, csrf_token
from prefkit.arena.state import Arena, load_inputs
from prefkit.data.io import file_format, write_jsonl
from prefkit.errors import PrefkitError

#: Upload route name -> the :func:`load_inputs` argument it fills.
UPLOADS = {"candidates": "candidates", "queue": "queue", "verdicts": "judged"}
FORMS = (
    ("/admin/upload/candidates", "Upload candidates", True),
    ("/admin/upload/queue", "Upload queue", True),
    ("/admin/upload/verdicts", "Upload judges' verdicts", True),
    ("/admin/export", "Export votes", False),
    ("/admin/reset", "Reset votes", False),
)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authorize(
    request: Request, arena: Arena, admin_token: str, csrf: str
) -> Response | None:
    """None when the request may use an admin route, else the refusal."""
    expected = arena.config.admin_token
    if expected is None:
        text = (
            "admin routes are disabled; start the server with "
            "PREFKIT_ARENA_ADMIN_TOKEN set"
        )
        return JSONResponse({"detail": text}, status_code=403)
    bearer = _bearer(request)
    if bearer is not None:
        if admin_ok(expected, bearer):
            return None
        return JSONResponse({"detail": "invalid admin token"}, status_code=403)
    if not csrf_ok(arena.store.secret, voter_id(request), csrf):
        return JSONResponse(
            {"detail": "missing or invalid CSRF token"}, status_code=403
        )
    if not admin_ok(expected, admin_token or None):
        return JSONResponse({"detail": "invalid admin token"}, status_code=403)
    return None


def _load_upload(arena: Arena, kind: str, upload: UploadFile) -> dict[str, int]:
    """Validate an uploaded file as ``kind`` and load it into the store."""
    name = Path(upload.filename or "upload.jsonl").name
    file_format(name)
    with tempfile.TemporaryDirectory(prefix="prefkit-arena-") as folder:
        path = Path(folder) / name
        path.write_bytes(upload.file.read())
        counts = load_inputs(arena.store, **{UPLOADS[kind]: path})
    if kind == "candidates":
        arena.reload_candidates()
    return counts


def _export_response(arena: Arena) -> Response:
    """All votes as a JSONL comparisons table, as a download."""
    table = arena.human_comparisons()
    with tempfile.TemporaryDirectory(prefix="prefkit-arena-") as folder:
        path = Path(folder) / "votes.jsonl"
        write_jsonl(table, path)
        body = path.read_bytes()
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"content-disposition": 'attachment; filename="arena-votes.jsonl"'},
    )


def admin_routes(app: FastAPI, arena: Arena) -> None:
    """Add ``/admin`` and its upload, export and reset routes to ``app``."""

    @app.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request) -> Response:
        vid = voter_id(request) or secrets.token_urlsafe(24)
        counts = arena.store.counts()
        shown = page(
            "admin.html",
            title="Admin",
            enabled=arena.config.admin_token is not None,
            csrf=csrf_token(arena.store.secret, vid),
            forms=FORMS,
            n_candidates=counts["candidates"],
            n_queue=counts["queue"],
            n_votes=counts["votes"],
        )
        return set_voter(shown, vid)

    for kind in UPLOADS:
        app.post(f"/admin/upload/{kind}")(_upload_route(arena, kind))

    @app.get("/admin/export")
    def export_get(request: Request) -> Response:
        refused = authorize(request, arena, "", "")
        return refused or _export_response(arena)

    @app.post("/admin/export")
    def export_post(
        request: Request,
        admin_token: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        refused = authorize(request, arena, admin_token, csrf)
        return refused or _export_response(arena)

    @app.post("/admin/reset")
    def reset(
        request: Request,
        admin_token: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
        confirm: Annotated[str, Form()] = "",
    ) -> Response:
        refused = authorize(request, arena, admin_token, csrf)
        if refused is not None:
            return refused
        if confirm != "reset":
            text = f"reset needs confirm=reset (got {confirm[:20]!r})"
            return JSONResponse({"detail": text}, status_code=400)
        return JSONResponse({"deleted_votes": arena.store.reset()})


def _upload_route(arena: Arena, kind: str) -> Callable[..., Any]:
    """The handler of ``POST /admin/upload/{kind}``."""

    def upload(
        request: Request,
        file: Annotated[UploadFile, File()],
        admin_token: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        refused = authorize(request, arena, admin_token, csrf)
        if refused is not None:
            return refused
        try:
            counts = _load_upload(arena, kind, file)
        except PrefkitError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return JSONResponse({"loaded": counts})

    upload.__name__ = f"upload_{kind}"
    return upload
