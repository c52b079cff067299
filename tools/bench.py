"""`make bench`: how long the program takes under mocks. Figures only, no verdicts.

- cold: a fresh Python process per run (imports included), median of several runs,
  for the prod stack and two floor programs that use the bare SDK:
  - one resource: the SDK imports plus one ConfigMap (what any program pays);
  - same count: as many resources as the prod stack registers, of the same types
    (counted at run time from a prod run), each with minimal inputs: what the SDK
    itself costs for a program of prod's size, so prod/same-count is the project's
    own overhead (config parsing, specs, building the inputs, its imports);
- warm: the prod stack and the floors evaluated again in one process;
- growth: one stack with 1, 10 and 50 backend services;
- real engine: `pulumi preview` of prod (without and with the policy pack) against the
  engine floor, the preview of a one-ConfigMap program on the same engine and cluster
  (the built-in one unless KUBECONFIG names another); skipped until `make engine
  cluster` has built them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tools.recording import ROOT

COLD_RUNS = 5
WARM_RUNS = 10
GROWTH = (1, 10, 50)
ENGINE_RUNS = 3
ENGINE_FLOOR_MAIN = """import pulumi_kubernetes as k8s

k8s.core.v1.ConfigMap("floor", metadata={"name": "floor"}, data={"a": "b"})
"""


def floor_program() -> None:
    import pulumi_kubernetes as k8s

    k8s.core.v1.ConfigMap("floor", metadata={"name": "floor"}, data={"a": "b"})


def same_count_program(shape: dict[str, int]) -> Callable[[], None]:
    """`shape` ({type token: count}) as bare SDK resources with minimal inputs."""

    def program() -> None:
        for type_, count in sorted(shape.items()):
            for i in range(count):
                bare_resource(type_, f"floor-{type_.rsplit(':', 1)[-1].lower()}-{i}")

    return program


def bare_resource(type_: str, name: str) -> object:
    """One resource of this type token through the SDK's own classes: Kubernetes kinds,
    custom resources, random passwords and components; any other type as a ConfigMap."""
    import pulumi
    import pulumi_kubernetes as k8s

    package, module, kind = type_.split(":")
    if package == "kubernetes" and not hasattr(k8s, module.split("/")[0].split(".")[0]):
        # A custom resource (cert-manager, Gateway API, ...): the SDK's generic class.
        return k8s.apiextensions.CustomResource(name, api_version=module, kind=kind, metadata={"name": name}, spec={})
    if package == "kubernetes":
        group, version = module.split("/")
        cls = getattr(getattr(getattr(k8s, group.split(".")[0]), version), kind)
        spec = minimal_spec(kind, name)
        return cls(name, metadata={"name": name}, **({"spec": spec} if spec else {}))
    if type_ == "random:index/randomPassword:RandomPassword":
        import pulumi_random as random

        return random.RandomPassword(name, length=32, special=False)
    if package not in ("kubernetes", "random", "docker", "pulumi"):
        return pulumi.ComponentResource(type_, name)
    return k8s.core.v1.ConfigMap(name, metadata={"name": name})


def minimal_spec(kind: str, name: str) -> dict | None:
    """The least a kind's SDK class accepts (a one-container pod for workloads)."""
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
    workload = {"selector": {"matchLabels": {"app": name}}, "template": template}
    return {
        "Deployment": workload,
        "ReplicaSet": workload,
        "DaemonSet": workload,
        "StatefulSet": {**workload, "serviceName": name},
        "Job": {"template": template},
        "CronJob": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}},
        "HorizontalPodAutoscaler": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "maxReplicas": 2,
        },
    }.get(kind)


def shape_of(recording) -> dict[str, int]:
    return dict(Counter(r.type for r in recording.resources))


def many_backends(count: int) -> Callable[[], None]:
    """A namespace and `count` copies of the prod app (web, workers, migration each)."""

    def program() -> None:
        from components.backend import Backend, BackendArgs
        from components.namespace import Namespace, NamespaceArgs
        from tools.stacks import config_for

        import stack_config

        config, secret_keys = config_for("prod")
        app = stack_config.load(config, "prod", secret_keys).app
        namespace = Namespace("namespace", NamespaceArgs(name="bench"))
        for i in range(count):
            spec = app.model_copy(update={"name": f"svc{i}"})
            Backend(f"svc{i}", BackendArgs(namespace=namespace.name, instance=f"svc{i}", app=spec))

    return program


def run_once(which: str, shape: dict[str, int] | None = None) -> int:
    """One evaluation in this process (the body of a cold run); the resources registered."""
    from tools.recording import run_program

    # The floors import nothing of the project: tools.stacks alone would load it all.
    if which == "floor":
        recording = run_program("bench", {}, program=floor_program)
    elif which == "floor-same-count":
        recording = run_program("bench", {}, program=same_count_program(shape or {}))
    else:
        from tools.stacks import config_for

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


def cold(programs: dict[str, list[str]], runs: int = COLD_RUNS) -> dict[str, dict[str, list[float]]]:
    """{label: {"wall": [...], "cpu": [...]}}: each program in a fresh process, `runs` times.

    The programs take turns (a, b, c, a, b, c, ...), so a change in the machine's load
    falls on all of them alike; CPU time (user + system of the child) is reported
    besides wall time because it hardly moves with other work on the machine.
    """
    results = {label: {"wall": [], "cpu": []} for label in programs}
    for _ in range(runs):
        for label, extra in programs.items():
            command = [sys.executable, "-m", "tools.bench", "--once", *extra]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            results[label]["wall"].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            results[label]["cpu"].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return results


def describe(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.0f} ms  (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, n={len(times)})"


def ratio(a: list[float], b: list[float]) -> str:
    return f"{statistics.median(a) / statistics.median(b):.2f}"


def engine_previews() -> None:
    from tools import engine_run

    if not (engine_run.engine_bin() / "pulumi").exists() or not (engine_run.cluster_bin() / "kubectl").exists():
        print("real engine: skipped, not built (make engine cluster)")
        return
    kubeconfig = os.environ.get("KUBECONFIG") or engine_run.start_cluster()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as scratch:
        base = Path(scratch)
        environment = engine_run.engine_environment(base / "state", kubeconfig)
        project = engine_run.copy_project(base / "project")
        engine_run.add_stack(project, "bench-prod", "prod", environment)
        floor = base / "floor"
        floor.mkdir()
        (floor / "Pulumi.yaml").write_text(
            f"name: bench-floor\nruntime:\n  name: python\n  options:\n    virtualenv: {ROOT / '.venv'}\n"
        )
        (floor / "__main__.py").write_text(ENGINE_FLOOR_MAIN)
        engine_run.pulumi(floor, environment, "stack", "init", "bench-floor", "--secrets-provider", "passphrase")
        previews = {
            "prod": (project, ["preview", "--stack", "bench-prod"]),
            "prod, policy pack": (project, ["preview", "--stack", "bench-prod", "--policy-pack", "policy"]),
            "floor, one resource": (floor, ["preview", "--stack", "bench-floor"]),
        }
        for directory, args in previews.values():  # the first run compiles bytecode
            engine_run.pulumi(directory, environment, *args)
        times: dict[str, list[float]] = {label: [] for label in previews}
        for _ in range(ENGINE_RUNS):
            for label, (directory, args) in previews.items():
                start = time.perf_counter()
                engine_run.pulumi(directory, environment, *args)
                times[label].append(time.perf_counter() - start)
    print(f"real engine: pulumi preview, cluster {kubeconfig} (wall)")
    for label, values in times.items():
        print(f"  {label:22s}{describe(values)}")
    floor_times = times["floor, one resource"]
    print(f"  ratio prod/engine floor: {ratio(times['prod'], floor_times)}, "
          f"with the policy pack: {ratio(times['prod, policy pack'], floor_times)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", help=argparse.SUPPRESS)
    parser.add_argument("--shape", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.once:
        run_once(args.once, args.shape)
        return 0

    from tools.recording import run_program
    from tools.stacks import config_for

    # What the prod stack registers, counted now: the same-count floor mirrors it.
    config, secrets = config_for("prod")
    shape = shape_of(run_program("prod", config, secret_keys=secrets))
    count = sum(shape.values())

    runs = cold({
        "prod": ["prod"],
        "one": ["floor"],
        "same": ["floor-same-count", "--shape", json.dumps(shape)],
    })
    prod, one, same = runs["prod"], runs["one"], runs["same"]
    print("cold process, imports included (wall; CPU = user + system of the process)")
    print(f"  prod stack            {describe(prod['wall'])}  CPU {describe(prod['cpu'])}  ({count} resources)")
    print(f"  floor, one resource   {describe(one['wall'])}  CPU {describe(one['cpu'])}")
    print(f"  floor, same count     {describe(same['wall'])}  CPU {describe(same['cpu'])}  ({count} resources of prod's types, bare SDK)")
    print(f"  ratio prod/one-resource floor: {ratio(prod['wall'], one['wall'])} wall, {ratio(prod['cpu'], one['cpu'])} CPU")
    print(f"  ratio prod/same-count floor:   {ratio(prod['wall'], same['wall'])} wall, {ratio(prod['cpu'], same['cpu'])} CPU")

    run_once("prod")  # warm the imports
    run_once("floor-same-count", shape)
    prod_warm = timed(lambda: run_once("prod"), WARM_RUNS)
    floor_warm = timed(lambda: run_once("floor"), WARM_RUNS)
    same_warm = timed(lambda: run_once("floor-same-count", shape), WARM_RUNS)
    print("warm, in one process")
    print(f"  prod stack            {describe(prod_warm)}  ({run_once('prod')} resources)")
    print(f"  floor, one resource   {describe(floor_warm)}")
    print(f"  floor, same count     {describe(same_warm)}  ({run_once('floor-same-count', shape)} resources)")
    print(f"  ratio prod/same-count floor:   {ratio(prod_warm, same_warm)}")

    print("growth: backend services in one stack (warm)")
    for services in GROWTH:
        program = many_backends(services)
        resources = len(run_program("bench", {}, program=program).resources)
        times = timed(lambda: run_program("bench", {}, program=program), 3)
        per = statistics.median(times) / services * 1000
        print(f"  {services:3d} services  {describe(times)}  {resources:5d} resources, {per:.0f} ms per service")

    engine_previews()
    return 0


if __name__ == "__main__":
    sys.exit(main())
