"""tests/sandbox.py: the limits the hostile-input tests rely on are really in force."""

from __future__ import annotations

from sandbox import run_limited


def test_memory_limit_turns_a_huge_allocation_into_memory_error():
    result = run_limited("""
        try:
            block = bytearray(2 << 30)
        except MemoryError:
            print("refused")
    """, mem_bytes=512 << 20, timeout_s=30)
    assert result.ok and result.last_line() == "refused", result.describe()
    assert result.peak_rss_bytes is not None and result.peak_rss_bytes < 512 << 20


def test_wall_clock_limit_kills_the_child():
    result = run_limited("while True: pass", timeout_s=1)
    assert result.timed_out and result.returncode is None and not result.ok
    assert "killed after the 1 s wall-clock limit" in result.describe()


def test_file_size_limit_stops_a_runaway_write(tmp_path):
    result = run_limited(f"""
        with open({str(tmp_path / "big")!r}, "wb") as f:
            while True:
                f.write(bytes(1 << 20))
    """, file_bytes=8 << 20, timeout_s=30)
    # Python ignores SIGXFSZ, so the write past the limit fails with EFBIG instead of killing the child.
    assert result.returncode == 1 and "OSError: [Errno 27] File too large" in result.stderr, result.describe()
    assert (tmp_path / "big").stat().st_size <= 8 << 20


def test_environment_additions_and_removals(monkeypatch):
    monkeypatch.setenv("SANDBOX_GONE", "1")
    result = run_limited("import os; print(os.environ.get('SANDBOX_GONE'), os.environ['SANDBOX_NEW'])",
                         env={"SANDBOX_GONE": None, "SANDBOX_NEW": "yes"})
    assert result.last_line() == "None yes", result.describe()
