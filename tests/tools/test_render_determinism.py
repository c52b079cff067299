"""tools/render.py: the same config gives the same manifests.yaml, byte for byte.

A GitOps user diffs these files, so neither the order in which the SDK happens to
register resources (it registers each once its inputs resolve) nor the hash seed
may show in them; and the order is dependencies first, the Namespace before all.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import render
from tools.recording import ROOT, Recording
from tools.stacks import stack_names

# Fresh processes per stack, each with its own hash seed ("random" too); prod gets most.
HASH_SEEDS = {"prod": ["0", "1", "2", "12345", "random"], "loan-lifecycle": ["7", "random"]}
RENDER_ONE = (
    "import sys; from pathlib import Path; from tools import render; "
    "render.write_manifests(render.render(sys.argv[1]), Path(sys.argv[2]))"
)


def test_the_stacks_exist():
    assert set(HASH_SEEDS) <= set(stack_names())


@pytest.fixture(scope="module")
def fresh_renders():
    """{stack: [(seed, text)]}: every render started at once, each in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="shipyard-render-") as tmp:
        started = []
        for stack, seeds in HASH_SEEDS.items():
            for n, seed in enumerate(seeds):
                out = Path(tmp) / f"{stack}-{n}.yaml"
                env = {**os.environ, "PYTHONHASHSEED": seed}
                process = subprocess.Popen(
                    [sys.executable, "-c", RENDER_ONE, stack, str(out)],
                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                )
                started.append((stack, seed, out, process))
        renders: dict[str, list[tuple[str, str]]] = {stack: [] for stack in HASH_SEEDS}
        for stack, seed, out, process in started:
            output, _ = process.communicate(timeout=300)
            assert process.returncode == 0, f"{stack} (PYTHONHASHSEED={seed}) failed:\n{output}"
            renders[stack].append((seed, out.read_text()))
        return renders


@pytest.mark.parametrize("stack", sorted(HASH_SEEDS))
def test_same_bytes_in_every_fresh_process(fresh_renders, stack):
    (first_seed, first), *others = fresh_renders[stack]
    for seed, text in others:
        assert text == first, f"{stack}: PYTHONHASHSEED={seed} rendered differently from {first_seed}"
    check_dependencies_first(list(yaml.safe_load_all(first)))


@pytest.fixture(scope="module")
def prod() -> Recording:
    return render.render("prod")


def text_of(recording: Recording) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifests.yaml"
        render.write_manifests(recording, path)
        return path.read_text()


def test_registration_order_does_not_show(prod):
    """The SDK's registration order varies from run to run; the file must not."""
    expected = text_of(prod)
    orders = [list(reversed(prod.resources))]
    for seed in range(4):
        shuffled = list(prod.resources)
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    for resources in orders:
        assert text_of(Recording(resources=resources)) == expected


def test_namespace_first_even_when_registered_last(prod):
    namespace_last = sorted(prod.resources, key=lambda r: r.kind == "Namespace" or r.type.endswith(":Namespace"))
    documents = list(yaml.safe_load_all(text_of(Recording(resources=namespace_last))))
    assert documents[0]["kind"] == "Namespace"
    check_dependencies_first(documents)


def test_kinds_in_dependency_order_within_each_component(prod):
    ranks: dict[str, list[int]] = {}
    for resource in render.ordered(prod):
        component = prod.component_of(resource)
        ranks.setdefault(component.urn if component else "", []).append(render.KIND_ORDER.index(resource.kind))
    for component, kinds in ranks.items():
        assert kinds == sorted(kinds), component


def test_data_stores_and_secrets_before_the_app(prod):
    """The Backend's migration and pods read what the data stores and Secrets create."""
    types = [prod.component_of(r).type for r in render.ordered(prod)]
    backend = types.index("shipyard:app:Backend")
    for before in ("shipyard:data:Database", "shipyard:data:Cache", "shipyard:app:Secrets"):
        assert before in types and len(types) - types[::-1].index(before) - 1 < backend, before


def check_dependencies_first(documents: list[dict[str, Any]]) -> None:
    """The Namespace is first, and everything an object refers to comes before it."""
    assert documents[0]["kind"] == "Namespace"
    position = {(d["kind"], d["metadata"]["name"]): i for i, d in enumerate(documents)}
    for i, document in enumerate(documents):
        for ref in references(document):
            if ref in position:
                assert position[ref] < i, f"{document['kind']} {document['metadata']['name']} comes before {ref}"


def references(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of the objects this one needs: its namespace, and what its pods read."""
    refs = set()
    if namespace := document["metadata"].get("namespace"):
        refs.add(("Namespace", namespace))
    if target := document.get("spec", {}).get("scaleTargetRef"):
        refs.add((target["kind"], target["name"]))
    spec = document.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    if not pod:
        return refs
    if account := pod.get("serviceAccountName"):
        refs.add(("ServiceAccount", account))
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                refs.add(("Secret", source["secretRef"]["name"]))
            if "configMapRef" in source:
                refs.add(("ConfigMap", source["configMapRef"]["name"]))
        for env in container.get("env", []):
            value_from = env.get("valueFrom", {})
            if "secretKeyRef" in value_from:
                refs.add(("Secret", value_from["secretKeyRef"]["name"]))
            if "configMapKeyRef" in value_from:
                refs.add(("ConfigMap", value_from["configMapKeyRef"]["name"]))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            refs.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume:
            refs.add(("ConfigMap", volume["configMap"]["name"]))
        if "persistentVolumeClaim" in volume:
            refs.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                refs.add(("Secret", source["secret"]["name"]))
            if "configMap" in source:
                refs.add(("ConfigMap", source["configMap"]["name"]))
    return refs
