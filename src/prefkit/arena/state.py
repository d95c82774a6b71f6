"""The arena server's state: settings, store, pair sampler, cached ratings."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prefkit.arena.board import Board, build_board
from prefkit.arena.config import ArenaConfig
from prefkit.arena.export import votes_to_comparisons
from prefkit.arena.inputs import read_candidates, read_queue, read_verdicts
from prefkit.arena.ratings import fit_bt
from prefkit.arena.sampling import PairIndex, index_pairs, sample_pair
from prefkit.arena.security import RateLimiter
from prefkit.arena.store import ArenaStore, Battle

#: Refit the ratings that steer sampling at most this often (seconds).
SAMPLING_REFIT_S = 2.0


class Arena:
    """The app's state: settings, store, sampler, and cached ratings.

    Parameters
    ----------
    config : ArenaConfig
        Server settings.
    """

    def __init__(self, config: ArenaConfig) -> None:
        self.config = config
        self.store = ArenaStore(config.db)
        self.limiter = RateLimiter(config.rate_limit)
        self.rng = np.random.default_rng(config.seed)
        self._lock = threading.Lock()
        self._refitting = threading.Lock()
        self._index = index_pairs(self.store.candidates())
        self._sampling_state: tuple[float, int, dict[str, float], dict[Any, int]] = (
            -np.inf, -1, {}, {}
        )  # fmt: skip
        self._board: tuple[tuple[int, int], Board] | None = None

    def reload_candidates(self) -> None:
        """Rebuild the pair index after the candidates changed."""
        index = index_pairs(self.store.candidates())
        with self._lock:
            self._index = index

    def _sampling_inputs(self) -> tuple[PairIndex, dict[str, float], dict[Any, int]]:
        """The pair index, current strengths and votes per pair (cached).

        At most one thread refits, at most every :data:`SAMPLING_REFIT_S`
        seconds; the others keep sampling from the last fit meanwhile.
        """
        now = time.monotonic()
        with self._lock:
            last, seen, theta, counts = self._sampling_state
            index = self._index
        stale = now - last >= SAMPLING_REFIT_S
        if stale and self._refitting.acquire(blocking=False):
            try:
                theta, counts = self._refit(seen, theta, counts, now)
            finally:
                self._refitting.release()
        return index, theta, counts

    def _refit(
        self, seen: int, theta: dict[str, float], counts: dict[Any, int], now: float
    ) -> tuple[dict[str, float], dict[Any, int]]:
        """Strengths and per-pair counts from the votes, if any arrived."""
        n = self.store.n_votes()
        if n != seen:
            outcomes = self.store.outcomes()
            theta, counts = {}, {}
            if not outcomes.empty:
                fit = fit_bt(outcomes)
                theta = dict(zip(fit.models, fit.theta.tolist(), strict=True))
                pairs = zip(outcomes["model_a"], outcomes["model_b"], strict=True)
                for a, b in pairs:
                    key = (a, b) if a < b else (b, a)
                    counts[key] = counts.get(key, 0) + 1
        with self._lock:
            self._sampling_state = (now, n, theta, counts)
        return theta, counts

    def next_battle(self, voter: str) -> tuple[Battle, str] | None:
        """Open the next battle for ``voter`` (queue first, then sampling)."""
        index, theta, counts = self._sampling_inputs()
        with self._lock:
            pair = sample_pair(index, theta, counts, self.rng)
            swapped = bool(self.rng.random() < 0.5)
        return self.store.open_battle(
            voter,
            pair,
            swapped=swapped,
            ttl_s=self.config.battle_ttl_s,
            queue_votes=self.config.queue_votes,
        )

    def human_comparisons(self) -> pd.DataFrame:
        """All votes as a comparisons table."""
        return votes_to_comparisons(self.store.votes())

    def board(self) -> Board:
        """The leaderboard, refitted when votes or verdicts changed since."""
        counts = self.store.counts()
        n = (counts["votes"], counts["verdicts"])
        with self._lock:
            cached = self._board
        if cached is not None and cached[0] == n:
            return cached[1]
        board = build_board(self.human_comparisons(), self.store.verdicts())
        with self._lock:
            self._board = (n, board)
        return board


def load_inputs(
    store: ArenaStore,
    candidates: str | Path | None = None,
    queue: str | Path | None = None,
    judged: str | Path | None = None,
) -> dict[str, int]:
    """Load input files into the store; returns how many rows each gave.

    ``judged`` is a comparisons table of judges' verdicts (``judge`` column
    optional) on pairs people may vote on; rows without a verdict are skipped.
    """
    counts = {}
    if candidates is not None:
        counts["candidates"] = store.put_candidates(read_candidates(candidates))
    if queue is not None:
        counts["queue"] = store.put_queue(read_queue(queue))
    if judged is not None:
        counts["verdicts"] = store.put_verdicts(read_verdicts(judged))
    return counts
