"""Load time and peak memory of a 1M-line battles JSONL file.

Generates a seeded Chatbot-Arena-style battle log (not committed; written to
a temporary folder unless ``--path`` is given), then reads it in a fresh
process per reader and prints wall time and peak RSS:

- ``prefkit.read_jsonl``: Arrow's block reader (raw records),
- ``prefkit.load``: the same plus the arena converter and validation,
- ``pandas.read_json(lines=True)`` (the peer),
- a plain ``json.loads`` loop into a DataFrame.

Run: ``.venv/bin/python bench/io.py --lines 1000000``
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READERS = {
    "prefkit.read_jsonl": "from prefkit.data.io import read_jsonl; df = read_jsonl(P)",
    "prefkit.load": "from prefkit.data import load; df = load(P)",
    "pandas.read_json": "import pandas as pd; df = pd.read_json(P, lines=True)",
    "json.loads loop": (
        "import json, pandas as pd\n"
        "with open(P, 'rb') as h: rows = [json.loads(x) for x in h if x.strip()]\n"
        "df = pd.DataFrame.from_records(rows)"
    ),
}

CHILD = """
import resource, sys, time
P = sys.argv[1]
t0 = time.perf_counter()
{code}
elapsed = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(len(df), elapsed, rss)
"""


def generate(path: Path, n_lines: int, seed: int = 0) -> None:
    """A seeded battle log: 40 models, arena winner labels, a few fields."""
    rng = random.Random(seed)
    models = [f"model-{k:02d}" for k in range(40)]
    labels = ["model_a", "model_b", "tie", "tie (bothbad)"]
    with path.open("w") as handle:
        for k in range(n_lines):
            a, b = rng.sample(models, 2)
            record = {
                "question_id": f"q{rng.randrange(50_000):05d}",
                "model_a": a,
                "model_b": b,
                "winner": rng.choices(labels, weights=[4, 4, 1, 1])[0],
                "judge": f"arena_user_{rng.randrange(100_000)}",
                "language": "English",
                "turn": 1,
                "tstamp": 1_700_000_000.0 + k,
            }
            handle.write(json.dumps(record) + "\n")


def run(name: str, path: Path) -> tuple[int, float, float]:
    """Rows, seconds and peak RSS (MiB) of one reader in a fresh process."""
    code = CHILD.format(code=READERS[name])
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, seconds, rss = out.stdout.split()[-3:]
    return int(rows), float(seconds), float(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.path or Path(folder.name) / "battles.jsonl"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.lines)
        print(
            f"generated {path} ({path.stat().st_size / 2**20:.0f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    results = {name: run(name, path) for name in READERS}
    peer = results["pandas.read_json"]
    print(
        f"{'reader':<20} {'rows':>9} {'seconds':>8} {'peak MiB':>9} "
        f"{'time/pandas':>12} {'mem/pandas':>11}"
    )
    for name, (rows, seconds, rss) in results.items():
        print(
            f"{name:<20} {rows:>9} {seconds:>8.2f} {rss:>9.0f} "
            f"{seconds / peer[1]:>12.2f} {rss / peer[2]:>11.2f}"
        )
    folder.cleanup()


if __name__ == "__main__":
    main()
