"""tools/recording.py: the recording mock itself must not hide anything."""

import pulumi
import pulumi_kubernetes as k8s

from tests.conftest import run_components


def config_map(data, **opts):
    return lambda: k8s.core.v1.ConfigMap(
        "cm", metadata={"name": "cm"}, data=data, opts=pulumi.ResourceOptions(**opts)
    )


def test_records_inputs_with_secrets_unwrapped_and_located():
    recording = run_components(config_map({"plain": "a", "hidden": pulumi.Output.secret("b")}))
    [cm] = recording.find("ConfigMap", "cm")
    assert cm.inputs["data"] == {"plain": "a", "hidden": "b"}
    # The SDK marks the map holding a secret as secret, not the single entry.
    assert cm.secret_paths == ["data"]


def test_records_resource_options():
    recording = run_components(config_map({}, protect=True, retain_on_delete=True, delete_before_replace=True, replace_on_changes=["data"]))
    [cm] = recording.find("ConfigMap")
    assert (cm.protect, cm.retain_on_delete, cm.delete_before_replace) == (True, True, True)
    assert cm.replace_on_changes == ["data"]


def test_default_options_are_off():
    [cm] = run_components(config_map({})).find("ConfigMap")
    assert not (cm.protect or cm.retain_on_delete or cm.delete_before_replace or cm.replace_on_changes)


def test_integers_stay_integers():
    recording = run_components(
        lambda: k8s.core.v1.Service("svc", metadata={"name": "svc"}, spec={"ports": [{"port": 80}]})
    )
    port = recording.one("Service")["spec"]["ports"][0]["port"]
    assert port == 80 and isinstance(port, int)


def test_runs_are_independent():
    first = run_components(config_map({}))
    second = run_components(config_map({}))
    assert len(first.resources) == len(second.resources) == 1


def test_secret_outputs_are_marked():
    def program():
        pulumi.export("plain", "a")
        pulumi.export("hidden", pulumi.Output.secret("b"))

    recording = run_components(program)
    assert recording.outputs == {"plain": "a", "hidden": "b"}
    assert recording.secret_outputs == {"hidden"}
