#!/usr/bin/env python3
"""Benchmark the deal engine (not a test): the synthetic deal's 60 periods and a
360-period stress copy of it, loaded, validated, computed and reconciled.

Prints time per period and per deal, the stress case's cost per period as a ratio to
the 60-period deal's (1.0 means the engine stays linear in the deal's age), whether
the 360-period deal runs within its target (one second, every figure's provenance kept),
and what pausing the cycle collector while a deal runs saves (generator.collector): the
360-period deal with the collector paused and running, in turn, each the best of 3.

    .venv/bin/python scripts/bench_engine.py
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import make_synthetic  # noqa: E402

from generator import formats, pipeline  # noqa: E402
from generator.pipeline import run  # noqa: E402


STRESS_TARGET = 1.0  # seconds for the 360-period deal, at most


def measure(deal_dir: Path, repeat: int) -> tuple[float, int, float]:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        computed = run(deal_dir, "all")
        best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    for c in computed:
        formats.text(c)
    text = time.perf_counter() - start
    return best, len(computed), text


def collector_saving(deal_dir: Path, repeat: int = 3) -> tuple[float, float]:
    """Best seconds to run ``deal_dir``'s every period with the cycle collector paused (as
    remit runs) and running, taken in turn so that the machine's drift falls on both."""
    paused, running = float("inf"), float("inf")
    real = pipeline.collector.paused
    try:
        for _ in range(repeat):
            for mode in ("paused", "running"):
                pipeline.collector.paused = real if mode == "paused" else contextlib.nullcontext
                start = time.perf_counter()
                run(deal_dir, "all")
                took = time.perf_counter() - start
                if mode == "paused":
                    paused = min(paused, took)
                else:
                    running = min(running, took)
    finally:
        pipeline.collector.paused = real
    return paused, running


def main() -> None:
    synthetic = ROOT / "inputs" / "synthetic-home-equity-2024-1"
    with tempfile.TemporaryDirectory() as tmp:
        stress = Path(tmp) / "stress-360"
        make_synthetic.write(stress, 360)
        rows = [("synthetic, 60 periods", *measure(synthetic, 3)), ("stress, 360 periods", *measure(stress, 1))]
        paused, running = collector_saving(stress)
    print(f"{'case':24} {'periods':>7} {'per deal':>10} {'per period':>11} {'text/period':>12}")
    for name, seconds, n, text in rows:
        print(f"{name:24} {n:7d} {seconds:9.3f}s {seconds / n * 1000:9.2f}ms {text / n * 1000:10.2f}ms")
    (_, s60, n60, _), (_, s360, n360, _) = rows
    print(f"stress cost per period / synthetic cost per period: {(s360 / n360) / (s60 / n60):.2f}")
    verdict = "PASS" if s360 < STRESS_TARGET else "MISS"
    print(f"360-period deal: {s360:.3f} s (target under {STRESS_TARGET:.0f} s): {verdict}")
    print(f"360-period deal, cycle collector paused / running: {paused:.3f} s / {running:.3f} s "
          f"= {paused / running:.2f}")


if __name__ == "__main__":
    main()
