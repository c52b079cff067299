"""`make bench`: how long the program takes under mocks. Figures only, no verdicts.

- cold: a fresh Python process per run (imports included), median of several runs,
  for the prod stack and for a floor program (the SDK imports plus one resource);
- warm: the prod stack evaluated again in one process;
- growth: one stack with 1, 10 and 50 backend services.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from tools.recording import ROOT

COLD_RUNS = 5
WARM_RUNS = 10
GROWTH = (1, 10, 50)


def floor_program() -> None:
    import pulumi_kubernetes as k8s

    k8s.core.v1.ConfigMap("floor", metadata={"name": "floor"}, data={"a": "b"})


def many_backends(count: int) -> Callable[[], None]:
    """A namespace and `count` copies of the prod app (web, workers, migration each)."""

    def program() -> None:
        from components.backend import Backend, BackendArgs
        from components.namespace import Namespace, NamespaceArgs
        from tools.stacks import config_for

        import stack_config

        app = stack_config.load(config_for("prod")[0], "prod").app
        namespace = Namespace("namespace", NamespaceArgs(name="bench"))
        for i in range(count):
            spec = app.model_copy(update={"name": f"svc{i}"})
            Backend(f"svc{i}", BackendArgs(namespace=namespace.name, instance=f"svc{i}", app=spec))

    return program


def run_once(which: str) -> int:
    """One evaluation in this process (the body of a cold run)."""
    from tools.recording import run_program
    from tools.stacks import config_for

    if which == "floor":
        recording = run_program("bench", {}, program=floor_program)
    else:
        config, secrets = config_for(which)
        recording = run_program(which, config, secret_keys=secrets)
    return len(recording.resources)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def cold(which: str) -> list[float]:
    command = [sys.executable, "-m", "tools.bench", "--once", which]
    return timed(lambda: subprocess.run(command, cwd=ROOT, check=True, capture_output=True), COLD_RUNS)


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.0f} ms  (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, n={len(times)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.once:
        run_once(args.once)
        return 0

    from tools.recording import run_program

    prod_cold, floor_cold = cold("prod"), cold("floor")
    print("cold process, imports included")
    print(f"  prod stack     {describe(prod_cold)}")
    print(f"  floor program  {describe(floor_cold)}")
    print(f"  ratio prod/floor: {statistics.median(prod_cold) / statistics.median(floor_cold):.2f}")

    run_once("prod")  # warm the imports
    prod_warm = timed(lambda: run_once("prod"), WARM_RUNS)
    floor_warm = timed(lambda: run_once("floor"), WARM_RUNS)
    print("warm, in one process")
    print(f"  prod stack     {describe(prod_warm)}  ({run_once('prod')} resources)")
    print(f"  floor program  {describe(floor_warm)}")

    print("growth: backend services in one stack (warm)")
    for count in GROWTH:
        program = many_backends(count)
        resources = len(run_program("bench", {}, program=program).resources)
        times = timed(lambda: run_program("bench", {}, program=program), 3)
        per = statistics.median(times) / count * 1000
        print(f"  {count:3d} services  {describe(times)}  {resources:5d} resources, {per:.0f} ms per service")
    return 0


if __name__ == "__main__":
    sys.exit(main())
