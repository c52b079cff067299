"""policy/safety/secret_exposure.py"""


from components.backend import spec as backend_spec
from safety import secret_exposure
from tests.policy.fixtures import changed, container_of, deployment, k8s


def violations(*manifests):
    return [str(v) for v in secret_exposure.check([k8s(m) for m in manifests], "production").violations]


def config_map(data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "env"}, "data": data}


def test_plain_settings_pass():
    assert violations(config_map({"LOG_LEVEL": "INFO"}), deployment()) == []


def test_credential_in_a_config_map_fails():
    assert violations(config_map({"STRIPE_API_KEY": "sk_live"})) == [
        "ConfigMap env: data key STRIPE_API_KEY looks like a credential; use a Secret"
    ]


def test_literal_credential_env_fails_but_a_secret_reference_passes():
    literal = changed(deployment(), lambda m: container_of(m).update(env=[{"name": "DB_PASSWORD", "value": "x"}]))
    assert violations(literal) == [
        "Deployment web: container web: env DB_PASSWORD has a literal value; use valueFrom.secretKeyRef"
    ]
    reference = changed(deployment(), lambda m: container_of(m).update(
        env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]))
    assert violations(reference) == []


def test_credential_annotation_fails():
    assert violations(deployment(annotations={"api-token": "abc"})) == ["Deployment web: annotation api-token looks like a credential"]


def test_secrets_themselves_are_not_checked():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"PASSWORD": "x"}}
    assert secret_exposure.check([k8s(secret)], "production").checked == 0


def test_names_that_only_refer_to_a_secret_pass():
    assert violations(config_map({"SECRET_KEY_FILE": "/run/secrets/key"})) == []


def test_config_validation_and_the_rule_agree_on_what_a_credential_is():
    # The stack config refuses these names in plain env for the same reason.
    assert backend_spec._SECRET_LOOKING.pattern == secret_exposure.CREDENTIAL_NAME.pattern
