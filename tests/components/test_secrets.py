"""components/secrets: the app's Secret, generated keys, protection and rollouts."""

from __future__ import annotations

import pulumi

from components.secrets import AppSecrets, AppSecretsArgs
from tests.conftest import run_components
from tools.recording import MOCK_PASSWORD


def secrets(**args):
    def program():
        component = AppSecrets("shop-secrets", AppSecretsArgs(namespace="shop", object_name="shop-secrets", **args))
        pulumi.export("checksum", component.env_secret.checksum)

    return run_components(program)


def test_values_become_secret_string_data():
    recording = secrets(values={"PLAID_SECRET": "p"})
    [secret] = recording.find("Secret", "shop-secrets")
    assert secret.inputs["type"] == "Opaque"
    assert secret.inputs["stringData"] == {"PLAID_SECRET": "p"}
    assert "stringData" in secret.secret_paths


def test_plain_inputs_are_made_secret_anyway():
    [secret] = secrets(values={"A": "plain"}).find("Secret")
    assert secret.secret_paths == ["stringData"]


def test_generated_keys_are_random_passwords_without_special_characters():
    recording = secrets(generated=["SECRET_KEY"], length=48)
    [password] = [r for r in recording.resources if r.type == "random:index/randomPassword:RandomPassword"]
    assert password.inputs["length"] == 48 and password.inputs["special"] is False
    data = recording.one("Secret")["stringData"]
    assert data["SECRET_KEY"].startswith(MOCK_PASSWORD)


def test_unprotected_by_default():
    recording = secrets(generated=["SECRET_KEY"])
    assert not any(r.protect or r.retain_on_delete for r in recording.resources if r.custom)


def test_protected_secret_and_keys_are_kept():
    recording = secrets(generated=["SECRET_KEY"], values={"A": "b"}, protect=True)
    custom = [r for r in recording.resources if r.custom]
    assert len(custom) == 2
    assert all(r.protect and r.retain_on_delete for r in custom)
    assert not any(r.delete_before_replace or r.replace_on_changes for r in custom)


def test_checksum_follows_content_and_stays_secret():
    first, second = secrets(values={"A": "1"}), secrets(values={"A": "2"})
    assert first.outputs["checksum"] != second.outputs["checksum"]
    assert "checksum" in first.secret_outputs


def test_generated_keys_keep_their_value_until_a_rotation_number_is_set():
    def keepers(**args):
        recording = secrets(generated=["SECRET_KEY", "JWT_SECRET_KEY"], **args)
        return {r.name: r.inputs.get("keepers") for r in recording.resources if r.type.startswith("random:")}

    # No keepers at all without rotation: keys made before rotation existed stay as they are.
    assert set(keepers().values()) == {None}
    rotated = keepers(rotation={"JWT_SECRET_KEY": 2})
    assert rotated == {"shop-secrets-secret-key": None, "shop-secrets-jwt-secret-key": {"rotation": "2"}}
