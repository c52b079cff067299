"""The policy pack as the Pulumi CLI runs it: a gRPC analyzer that reports on a stack.

Starts `policy/__main__.py` the way the engine does (it prints its port), then
speaks the analyzer protocol to it with the prod stack's resources.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from google.protobuf import empty_pb2

from safety import RULES
from tests.policy.fixtures import changed, container_of, deployment
from tools import render
from tools.recording import ROOT


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "policy")},
    )
    try:
        port = int(process.stdout.readline().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()


def resource(type_: str, name: str, props: dict, urn: str, protect: bool = False) -> analyzer_pb2.AnalyzerResource:
    properties = struct_pb2.Struct()
    properties.update(props)
    return analyzer_pb2.AnalyzerResource(
        type=type_, name=name, urn=urn, properties=properties,
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect),
    )


def prod_resources() -> list[analyzer_pb2.AnalyzerResource]:
    recording = render.render("prod")
    return [resource(r.type, r.name, r.inputs, r.urn, r.protect) for r in recording.resources if r.custom]


def test_the_pack_lists_one_policy_per_rule(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "shipyard-safety"
    assert sorted(p.name for p in info.policies) == sorted(rule.RULE for rule in RULES)


def test_the_prod_stack_passes(analyzer):
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=prod_resources()))
    assert [(d.policyName, d.message) for d in response.diagnostics] == []


def test_a_bad_object_is_reported_as_mandatory(analyzer):
    bad = changed(deployment(), lambda m: container_of(m)["securityContext"].update(privileged=True))
    urn = "urn:pulumi:prod::shipyard::kubernetes:apps/v1:Deployment::web"
    request = analyzer_pb2.AnalyzeStackRequest(
        resources=[*prod_resources(), resource("kubernetes:apps/v1:Deployment", "web", bad, urn)]
    )
    diagnostics = analyzer.AnalyzeStack(request).diagnostics
    pod_security = [d for d in diagnostics if d.policyName == "pod-security"]
    assert pod_security and pod_security[0].urn == urn
    assert "privileged" in pod_security[0].message
    assert pod_security[0].enforcementLevel == analyzer_pb2.MANDATORY


def with_unknowns(props: dict) -> dict:
    """Props as a first preview sends them: what derives from generated passwords is unknown."""
    from pulumi_policy import proxy

    props = json.loads(json.dumps(props))
    if props.get("kind") == "Secret":
        props["stringData"] = {key: proxy.UNKNOWN_STRING_VALUE for key in props.get("stringData", {})}
    template = (props.get("spec") or {}).get("template")
    if template and "annotations" in template.get("metadata", {}):
        template["metadata"]["annotations"] = {k: proxy.UNKNOWN_STRING_VALUE for k in template["metadata"]["annotations"]}
    if props.get("kind") == "Job":
        props["metadata"]["name"] = proxy.UNKNOWN_STRING_VALUE
    return props


def test_a_preview_with_unknown_values_runs_every_policy(analyzer):
    # Unknown values used to stop a policy with an advisory "can't run" note and a
    # preview that passed: the gate was silently skipped.
    recording = render.render("prod")
    resources = [resource(r.type, r.name, with_unknowns(r.inputs), r.urn, r.protect) for r in recording.resources if r.custom]
    assert [(d.policyName, d.message) for d in analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics] == []
    bad = changed(deployment(), lambda m: container_of(m)["securityContext"].update(privileged=True))
    urn = "urn:pulumi:prod::shipyard::kubernetes:apps/v1:Deployment::web"
    request = analyzer_pb2.AnalyzeStackRequest(resources=[*resources, resource("kubernetes:apps/v1:Deployment", "web", with_unknowns(bad), urn)])
    diagnostics = analyzer.AnalyzeStack(request).diagnostics
    assert {d.enforcementLevel for d in diagnostics} == {analyzer_pb2.MANDATORY}
    assert any(d.policyName == "pod-security" and "privileged" in d.message for d in diagnostics)
