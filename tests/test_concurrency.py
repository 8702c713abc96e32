"""The app, two CLI writers and an importer write at once while the scheduler runs (bench/concurrency.py
runs the issue's 4 x 500; this is the same code at 4 x 20)."""
from bench.concurrency import concurrent


def test_four_writers_and_the_scheduler_lose_nothing_and_duplicate_nothing():
    result = concurrent(20)
    assert result["errors"] == {}  # no writer failed, no "database is locked" reached anyone
    assert (result["lost"], result["duplicated"]) == (0, 0)
    assert result["stored"] == result["indexed"] == 80 and result["pending"] == 0
