"""The per-key token buckets: a burst, then waits; one table shared by every limiter on the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from search_api.ratelimit import SLOTS, RateLimiter

ROOT = Path(__file__).resolve().parents[2]


def test_a_key_gets_its_burst_then_is_told_how_long_to_wait() -> None:
    limiter = RateLimiter(rate=0.5, burst=3)
    assert [limiter.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("k")
    assert 0 < wait <= 2.0  # one token refills in 2 s at 0.5/s
    assert limiter.take("other") == 0.0  # keys do not share buckets


def test_limiters_on_one_file_share_the_buckets(tmp_path: Path) -> None:
    path = tmp_path / "rl.bin"
    first, second = (RateLimiter(rate=1 / 3600, burst=4, path=path) for _ in range(2))
    answers = [(first if n % 2 else second).take("k") for n in range(8)]
    assert [a == 0.0 for a in answers] == [True] * 4 + [False] * 4
    first.close()
    second.close()


_TAKER = """
import sys
from pathlib import Path
from search_api.ratelimit import RateLimiter
limiter = RateLimiter(rate=1 / 3600, burst=10, path=Path(sys.argv[1]))
print(sum(limiter.take("shared") == 0.0 for _ in range(200)))
"""


def test_processes_taking_at_once_get_the_burst_between_them(tmp_path: Path) -> None:
    path = tmp_path / "rl.bin"
    procs = [subprocess.Popen([sys.executable, "-c", _TAKER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    allowed = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(allowed) == 10  # not 30: the flock makes each take atomic across processes


def test_a_table_of_another_size_is_reset_and_many_keys_fit(tmp_path: Path) -> None:
    path = tmp_path / "rl.bin"
    path.write_bytes(b"\xff" * 100)  # a foreign or older layout
    limiter = RateLimiter(rate=1 / 3600, burst=1, path=path)
    assert limiter.take("k") == 0.0 and limiter.take("k") > 0
    assert all(limiter.take(f"key-{n}") == 0.0 for n in range(SLOTS // 2))
    assert limiter.take("k") > 0  # still tracked among thousands of others
    limiter.close()
