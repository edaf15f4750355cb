"""fastact.resources: sizes, the budget's precedence, the one-line refusal, rlimit-aware available memory.

(Named test_data_* because the data layer is its first user; the module itself sits below every layer.)
"""

from __future__ import annotations

import re

import pytest

from fastact import resources
from fastact.resources import (
    ResourceError,
    array_bytes,
    available_memory,
    check_allocation,
    format_bytes,
    memory_budget,
    parse_size,
    set_memory_budget,
)

from sandbox import run_limited


@pytest.fixture(autouse=True)
def clean_budget(monkeypatch):
    monkeypatch.delenv(resources.ENV_BUDGET, raising=False)
    set_memory_budget(None)
    yield
    set_memory_budget(None)


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.50 KiB"), (47 << 20, "47.0 MiB"),
                                     (8 << 30, "8.00 GiB"), (1023 << 20, "1023 MiB"), (3 << 50, "3.00 PiB"),
                                     (1 << 70, "1048576 PiB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize("text, n", [("8G", 8 << 30), ("8GiB", 8 << 30), ("8gb", 8 << 30), ("1.5G", 3 << 29),
                                     ("512M", 512 << 20), ("100", 100), (" 2 T ", 2 << 40), (4096, 4096),
                                     (".5K", 512)])
def test_parse_size(text, n):
    assert parse_size(text) == n


def test_parse_percentage_is_of_available_memory(monkeypatch):
    monkeypatch.setattr(resources, "_available", lambda: (1000, "available"))
    assert parse_size("75%") == 750 and parse_size("100%") == 1000


@pytest.mark.parametrize("bad", ["abc", "", "-1G", "0", "8X", "150%", "0%", True, -5, "1e9"])
def test_parse_size_names_the_setting_and_value(bad):
    with pytest.raises(ResourceError, match=re.escape(f"received: FASTACT_MEMORY_BUDGET={bad!r}")):
        parse_size(bad)


def test_budget_precedence(monkeypatch):
    monkeypatch.setattr(resources, "_available", lambda: (10 << 30, "available"))
    assert memory_budget() == resources.Budget(5 << 30, "50% of 10.0 GiB available")
    monkeypatch.setenv(resources.ENV_BUDGET, "3G")
    assert memory_budget() == resources.Budget(3 << 30, "FASTACT_MEMORY_BUDGET=3G")
    monkeypatch.setenv(resources.ENV_BUDGET, "20%")
    assert memory_budget().n_bytes == 2 << 30
    set_memory_budget("1G", source="--memory-budget 1G")
    assert memory_budget() == resources.Budget(1 << 30, "--memory-budget 1G")
    set_memory_budget(12345)
    assert memory_budget() == resources.Budget(12345, "set_memory_budget(12345)")
    set_memory_budget(None)
    assert memory_budget().source == "FASTACT_MEMORY_BUDGET=20%"


def test_check_allocation_message(monkeypatch):
    set_memory_budget("1G", source="--memory-budget 1G")
    assert check_allocation("small", 1 << 30) == 1 << 30  # the budget itself fits
    with pytest.raises(ResourceError) as info:
        check_allocation("weights of hidden=(65536, 65536)", 16 << 30, setting="hidden=65536,65536",
                         fix="use fewer hidden units")
    assert str(info.value) == (
        "hidden=65536,65536: weights of hidden=(65536, 65536) needs an estimated 16.0 GiB, more than the memory "
        "budget of 1.00 GiB (--memory-budget 1G); use fewer hidden units, or raise the budget with "
        "--memory-budget SIZE or FASTACT_MEMORY_BUDGET=SIZE (e.g. 16G, or 90%)")
    assert isinstance(info.value, ValueError)


def test_check_allocation_raises_the_given_subclass_and_reports_a_bad_env(monkeypatch):
    class Mine(ResourceError):
        pass

    set_memory_budget(100)
    with pytest.raises(Mine, match="^thing needs an estimated 101 B, more than the memory budget of 100 B"):
        check_allocation("thing", 101, error=Mine)
    set_memory_budget(None)
    monkeypatch.setenv(resources.ENV_BUDGET, "lots")
    with pytest.raises(Mine, match="received: FASTACT_MEMORY_BUDGET='lots'"):
        check_allocation("thing", 1, error=Mine)


def test_array_bytes_does_not_overflow():
    assert array_bytes((2**32 - 1, 2**32 - 1, 2**32 - 1), 8) == 8 * (2**32 - 1) ** 3
    assert array_bytes((), 4) == 4 and array_bytes((0, 10**9), 8) == 0


def test_available_memory_is_at_most_meminfo():
    with open("/proc/meminfo") as f:
        meminfo = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    # Other processes allocate meanwhile: allow 5% drift, but never more than the kernel's figure by much.
    assert 0 < available_memory() <= meminfo * 1.05


def test_available_memory_sees_the_address_space_limit():
    result = run_limited("""
        from fastact import resources
        n, why = resources._available()
        print(n, why, resources.memory_budget().source)
    """, mem_bytes=1 << 30, timeout_s=60)
    assert result.ok, result.describe()
    n, rest = result.last_line().split(" ", 1)
    assert 0 < int(n) < 1 << 30
    assert rest.startswith("left under the address-space limit (ulimit -v) 50% of ")
