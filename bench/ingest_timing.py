"""Timing helpers for bench/ingest.py: interleaved bare/pipeline pairs on a settled heap.

Why pairs and a settled heap (measured on the shared 2-core VM, 2026-12-01):
- A best-of-N ratio divides two minima that the machine's noise reaches unevenly; the ratio
  within one pair, run back to back, and its median over many pairs move much less.
- python-docx's objects hold reference cycles, so a parsed DOCX is only freed by
  ``gc.collect()``, and glibc then parks its ~10^5 small blocks in fastbins until the next
  large ``malloc`` merges them: that first allocation took ~40 ms of CPU (1 ms with
  ``GLIBC_TUNABLES=glibc.malloc.mxfast=0``). Left alone, the cost of freeing the *previous*
  run's document landed on whichever timed run made the first large allocation, or on none:
  the DOCX's best-of-7 CPU ratio swung between 0.97 and 1.84 from run to run.
So every run starts on a settled heap (collected, fastbins merged), and what freeing the run's
own garbage costs is measured apart, right after it, against a second settle of the now clean
heap (the traversal of the process's other objects cancels out).
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field


def settle() -> None:
    gc.collect()
    bytearray(1 << 20)  # a large malloc: glibc merges its fastbins here, off the clock


def timed(fn) -> tuple[float, float, float]:
    """(wall s, CPU s) of ``fn()`` on a settled heap, and the CPU s that freeing its garbage
    took afterwards (collection + consolidation, minus the same on the clean heap)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    t1, c1 = time.perf_counter(), time.process_time()
    settle()
    c2 = time.process_time()
    settle()
    c3 = time.process_time()
    return t1 - t0, c1 - c0, max(0.0, (c2 - c1) - (c3 - c2))


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    free: list[float] = field(default_factory=list)

    def add(self, fn) -> None:
        wall, cpu, free = timed(fn)
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.free.append(free)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    p25, p50, p75 = statistics.quantiles(values, n=4, method="inclusive")
    return p25, p50, p75


def interleaved(steps: dict, pairs: int, ref_runs: int) -> tuple[dict[str, Samples], dict]:
    """One cold pair, then ``pairs`` warm bare/pipeline pairs, the order alternating so that
    neither side always runs second; the reference step (if any) after the first ``ref_runs``
    warm pairs. Returns the samples per step (cold run first) and the warm pairs' pipeline/bare
    ratios: {"cpu": [...], "wall": [...], "cpu_free": [...] (freeing counted on both sides)}."""
    samples = {k: Samples() for k in steps}
    ratios: dict[str, list[float]] = {"cpu": [], "wall": [], "cpu_free": []}
    settle()
    for i in range(pairs + 1):
        for key in ("bare", "pipe") if i % 2 == 0 else ("pipe", "bare"):
            samples[key].add(steps[key])
        if i:  # the cold pair (imports, tokenizer load, token cache) gives no ratio
            bare, pipe = samples["bare"], samples["pipe"]
            ratios["cpu"].append(pipe.cpu[-1] / bare.cpu[-1])
            ratios["wall"].append(pipe.wall[-1] / bare.wall[-1])
            ratios["cpu_free"].append(
                (pipe.cpu[-1] + pipe.free[-1]) / (bare.cpu[-1] + bare.free[-1])
            )
        if "ref" in steps and 0 < i <= ref_runs:
            samples["ref"].add(steps["ref"])
    return samples, ratios


def spread(values: list[float]) -> str:
    """``median [p25-p75]`` of ratios."""
    p25, p50, p75 = quartiles(values)
    return f"{p50:.2f} [{p25:.2f}-{p75:.2f}]"
