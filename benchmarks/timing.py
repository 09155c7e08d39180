"""The timing rule every benchmark here uses: a warm-up call, then the median of timed calls."""

import statistics
import time


def median_seconds(fn, repeats: int, warmup: bool = True) -> float:
    """Median wall time of `repeats` calls of `fn`, after one untimed call (when `warmup`)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_seconds(fns, rounds: int, *args) -> list:
    """Median wall time of each of `fns` called on `args`, one call of each per round (so a
    host's drift hits every form alike), after one untimed call of each."""
    times: list = [[] for _ in fns]
    for fn in fns:
        fn(*args)
    for _ in range(rounds):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn(*args)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def run_child(script: str, *args: str) -> dict:
    """Run `script` with `args` in a fresh Python process (so its peak RSS is its own) and return
    the JSON object on its last stdout line, or ``{"error": ...}`` with the exit code and the
    last stderr line."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:120]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])
