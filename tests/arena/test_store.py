"""The SQLite store: durability settings, queue order, one vote per battle."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefkit.arena.inputs import read_queue
from prefkit.arena.store import ArenaStore, VoteError, winner_of
from tests.arena.helpers import queue_rows, write_jsonl

PAIR = {
    "prompt_id": "p",
    "prompt": "Say hi",
    "model_a": "x",
    "model_b": "y",
    "response_a": "hi",
    "response_b": "hello",
}


def _store(tmp_path: Path, queue: bool = False) -> ArenaStore:
    store = ArenaStore(tmp_path / "a.sqlite")
    if queue:
        store.put_queue(read_queue(write_jsonl(tmp_path / "q.jsonl", queue_rows())))
    return store


def _open(store: ArenaStore, voter: str = "v1", **kw):
    kw.setdefault("swapped", False)
    kw.setdefault("ttl_s", 60.0)
    kw.setdefault("queue_votes", 1)
    return store.open_battle(voter, kw.pop("pair", PAIR), **kw)


def test_database_is_in_wal_mode_with_full_sync(tmp_path: Path):
    """Journal mode WAL and synchronous=FULL (2) on the store's connection."""
    store = _store(tmp_path)
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2


@pytest.mark.parametrize(
    ("choice", "swapped", "winner"),
    [
        ("left", False, "a"),
        ("right", False, "b"),
        ("left", True, "b"),
        ("right", True, "a"),
        ("tie", True, "tie"),
        ("bothbad", False, "tie"),
    ],
)
def test_screen_choice_maps_to_the_a_b_labelling(choice, swapped, winner):
    """Left is model_a unless the battle showed model_b first."""
    assert winner_of(choice, swapped) == winner


def test_queue_comes_first_most_uncertain_first(tmp_path: Path):
    """The queue items are served in decreasing uncertainty, then sampled pairs."""
    store = _store(tmp_path, queue=True)
    served = []
    for k in range(4):
        battle, _ = _open(store, voter=f"v{k}")
        served.append((battle.source, battle.prompt_id))
    assert served == [
        ("queue", "q1"),
        ("queue", "q2"),
        ("queue", "q0"),
        ("sampling", "p"),
    ]


def test_queue_item_not_shown_twice_to_one_voter(tmp_path: Path):
    """With three votes wanted per item, one voter still sees each item once."""
    store = _store(tmp_path, queue=True)
    seen = [_open(store, queue_votes=3)[0].prompt_id for _ in range(4)]
    assert seen == ["q1", "q2", "q0", "p"]


def test_expired_open_battle_frees_its_queue_item(tmp_path: Path):
    """An abandoned battle holds its queue item only until its token expires."""
    store = _store(tmp_path, queue=True)
    first, _ = _open(store, voter="v1", now=0.0, ttl_s=10.0)
    again, _ = _open(store, voter="v2", now=100.0)
    assert first.prompt_id == again.prompt_id == "q1"


def test_one_vote_per_token(tmp_path: Path):
    """The second vote with the same token is refused with 409."""
    store = _store(tmp_path)
    battle, token = _open(store)
    digest = store.pair_digest(battle)
    store.cast_vote(token, "v1", digest, "left", "")
    with pytest.raises(VoteError, match="already has a vote") as info:
        store.cast_vote(token, "v1", digest, "right", "")
    assert info.value.status == 409
    assert store.n_votes() == 1


def test_vote_refusals(tmp_path: Path):
    """Unknown token, other voter, other pair, expired, unknown choice: refused."""
    store = _store(tmp_path)
    battle, token = _open(store, now=0.0, ttl_s=10.0)
    digest = store.pair_digest(battle)
    cases = [
        (("nope", "v1", digest, "left"), "not valid", 403),
        ((token, "v2", digest, "left"), "another voter", 403),
        ((token, "v1", "0" * 32, "left"), "not for the pair that was shown", 400),
        ((token, "v1", digest, "middle"), "unknown choice 'middle'", 400),
    ]
    for args, text, status in cases:
        with pytest.raises(VoteError, match=text) as info:
            store.cast_vote(*args, "", now=5.0)
        assert info.value.status == status
    with pytest.raises(VoteError, match="expired") as info:
        store.cast_vote(token, "v1", digest, "left", "", now=11.0)
    assert info.value.status == 410
    assert store.n_votes() == 0


def test_reset_keeps_inputs_and_drops_votes(tmp_path: Path):
    """Reset deletes battles and votes but not the queue."""
    store = _store(tmp_path, queue=True)
    battle, token = _open(store)
    store.cast_vote(token, "v1", store.pair_digest(battle), "tie", "")
    assert store.reset() == 1
    counts = store.counts()
    assert (counts["votes"], counts["battles"], counts["queue"]) == (0, 0, 3)


def test_secret_is_kept_across_reopening(tmp_path: Path):
    """The HMAC key is made once per database, so pseudonyms stay stable."""
    first = _store(tmp_path).secret
    assert _store(tmp_path).secret == first
    assert len(first) == 32
