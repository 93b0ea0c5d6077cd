#!/usr/bin/env python3
"""Runs one phase of bench/e2e_bench.py with several argus builds or settings in turns.

    bench/compare.py PHASE ROUNDS VARIANT...

PHASE is course (wall seconds), e2e (images/s), single (p50 ms) or rate (p95 ms at
40 requests/s). A VARIANT is "BINARY" or "BINARY|EXTRA SERVE ARGUMENTS". Taking the
variants in turns, ROUNDS times, keeps a machine whose speed drifts from favouring one;
the median of each is printed with its runs. Run inside the build environment:
scripts/devroot bench/compare.py course 3 build/argus old/argus
"""
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_bench  # noqa: E402

PHASES = {
    "course": lambda: e2e_bench.course_workload()[0],
    "e2e": lambda: e2e_bench.end_to_end_throughput()[0],
    "single": lambda: 1000 * e2e_bench.percentile(e2e_bench.single_image_latency()[0], 50),
    "rate": lambda: 1000 * e2e_bench.percentile(e2e_bench.fixed_rate_latency(), 95),
}


def main():
    # No rounds would leave no runs to take the median of.
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdecimal() else 0
    if len(sys.argv) < 4 or sys.argv[1] not in PHASES or rounds < 1:
        print(__doc__, file=sys.stderr)
        return 2
    phase, variants = sys.argv[1], sys.argv[3:]
    base_service = e2e_bench.Service
    results = {variant: [] for variant in variants}
    for _ in range(rounds):
        for variant in variants:
            binary, _, arguments = variant.partition("|")
            extra = shlex.split(arguments)

            class Service(base_service):
                def __init__(self, *args):
                    super().__init__(*args, *extra)

            e2e_bench.ARGUS = os.path.abspath(binary)
            e2e_bench.Service = Service
            results[variant].append(PHASES[phase]())
            print(f"{variant}: {results[variant][-1]:.3f}", flush=True)
    for variant, runs in results.items():
        print(f"median {statistics.median(runs):.3f} ({', '.join(f'{r:.3f}' for r in runs)})  {variant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
