"""``xingdong bench handins`` runs end to end on a scratch database and reports every
figure (no speed is asserted: figures are for the benchmark's table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg

from xingdong.bench.handins import SCRATCH
from xingdong.core.db import libpq_url

EXPECTED = {
    "handins", "concurrent", "delay_ms", "at_once_per_s", "delayed_per_s", "at_once",
    "delayed", "ratio", "one_at_a_time", "one_at_a_time_ratio",
}  # fmt: skip


def test_the_hand_in_benchmark_prints_one_json_object(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xingdong", "bench", "handins", "--handins", "6",
         "--concurrent", "3", "--delay-ms", "20", "--rounds", "2", "--json"],
        env={**os.environ, "XINGDONG_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == EXPECTED
    assert (figures["handins"], figures["concurrent"], figures["delay_ms"]) == (6, 3, 20.0)
    # Every hand-in of every round went through (a refused one stops the benchmark).
    assert len(figures["at_once_per_s"]) == len(figures["delayed_per_s"]) == 2
    assert min(figures["at_once_per_s"] + figures["delayed_per_s"]) > 0
    assert abs(figures["ratio"] - figures["delayed"] / figures["at_once"]) < 0.01
    with psycopg.connect(libpq_url(database_url)) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SCRATCH,)).fetchall()
    assert left == []  # the scratch database is dropped


def test_a_bad_option_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xingdong", "bench", "handins", "--handins", "61"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: Invalid value for '--handins': Input should be less than or equal to 60 "
        "(see python -m xingdong bench handins --help)"
    ]
