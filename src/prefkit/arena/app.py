"""The arena web app: anonymous side-by-side votes, a live leaderboard, admin.

Pages are rendered on the server by Jinja2 with autoescaping on, so model
text and prompts always reach the browser as text; a Content-Security-Policy
forbids inline script on top. Votes need the battle's one-time token, the
digest of the pair shown and the voter's CSRF token, and are committed
durably before the voter is answered [Chiang24]_.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from prefkit.arena.admin import admin_routes
from prefkit.arena.board import board_json
from prefkit.arena.config import ArenaConfig
from prefkit.arena.pages import message, page, set_voter, voter_id
from prefkit.arena.security import GuardMiddleware, csrf_ok, csrf_token, pseudonym
from prefkit.arena.state import Arena
from prefkit.arena.store import VoteError

logger = logging.getLogger(__name__)

SAID = {
    "left": "A is better",
    "right": "B is better",
    "tie": "tie",
    "bothbad": "both are bad",
}


def create_app(config: ArenaConfig) -> FastAPI:
    """Build the arena's ASGI app over the database in ``config.db``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from prefkit.arena import ArenaConfig, create_app
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "arena.sqlite"
    >>> app = create_app(ArenaConfig(db=db))
    >>> sorted(r.path for r in app.routes if r.path.startswith("/leader"))
    ['/leaderboard', '/leaderboard.json']
    """
    arena = Arena(config)
    app = FastAPI(title="prefkit arena", docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    app.state.arena = arena
    static = Path(__file__).with_name("static")
    app.mount("/static", StaticFiles(directory=static), name="static")
    _voting_routes(app, arena)
    _board_routes(app, arena)
    admin_routes(app, arena)
    app.add_middleware(
        GuardMiddleware,  # type: ignore[arg-type]
        limiter=arena.limiter,
        max_body=config.max_body_bytes,
        max_upload=config.max_upload_bytes,
    )
    return app


def _voting_routes(app: FastAPI, arena: Arena) -> None:
    """``/`` (a new battle), ``/vote`` and ``/reveal/{id}``."""
    secret = arena.store.secret

    @app.get("/", response_class=HTMLResponse)
    def battle_page(request: Request) -> Response:
        vid = voter_id(request) or secrets.token_urlsafe(24)
        opened = arena.next_battle(pseudonym(secret, vid))
        if opened is None:
            text = (
                "There is nothing to vote on yet: load candidates with "
                "`prefkit arena serve --candidates FILE`."
            )
            return set_voter(message("No battles yet", text, 503), vid)
        battle, token = opened
        shown = page(
            "battle.html",
            title="Vote",
            battle=battle,
            token=token,
            pair=arena.store.pair_digest(battle),
            csrf=csrf_token(secret, vid),
            reason_max=arena.config.reason_max_chars,
        )
        return set_voter(shown, vid)

    @app.post("/vote")
    def vote(
        request: Request,
        token: Annotated[str, Form()] = "",
        pair: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
        choice: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        vid = voter_id(request)
        if vid is None or not csrf_ok(secret, vid, csrf):
            return message("Vote refused", "missing or invalid CSRF token", 403)
        limit = arena.config.reason_max_chars
        if len(reason) > limit:
            text = f"the reason is too long (got {len(reason)} characters; max {limit})"
            return message("Vote refused", text, 400)
        try:
            battle = arena.store.cast_vote(
                token, pseudonym(secret, vid), pair, choice, reason.strip()
            )
        except VoteError as exc:
            return message("Vote refused", str(exc), exc.status)
        return RedirectResponse(f"/reveal/{battle.id}", status_code=303)

    @app.get("/reveal/{battle_id}", response_class=HTMLResponse)
    def reveal(request: Request, battle_id: int) -> Response:
        vid = voter_id(request)
        battle = arena.store.battle(battle_id)
        if vid is None or battle is None or battle.voter != pseudonym(secret, vid):
            return message("Not found", "no such battle of yours", 404)
        said = arena.store.choice_of(battle.id)
        if said is None:
            return message("Not yet", "names are shown after you vote", 403)
        return page("reveal.html", title="Result", battle=battle, said=SAID[said])


def _board_routes(app: FastAPI, arena: Arena) -> None:
    """``/leaderboard``, ``/leaderboard.json`` and ``/healthz``."""

    @app.get("/leaderboard", response_class=HTMLResponse)
    def leaderboard() -> Response:
        board = arena.board()
        return page(
            "leaderboard.html",
            title="Leaderboard",
            board=board,
            human=board.human.to_dict("records"),
            judges=[(k, v.to_dict("records")) for k, v in board.judges.items()],
            agreement=board.agreement.to_dict("records"),
        )

    @app.get("/leaderboard.json")
    def leaderboard_json() -> JSONResponse:
        board = arena.board()
        return JSONResponse(board_json(board))

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"ok": True, "votes": arena.store.n_votes()})
