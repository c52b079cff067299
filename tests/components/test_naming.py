"""components/naming.py"""

from components.naming import AppIdentity, k8s_name, label_value


def test_names_are_joined_and_lowercased():
    assert k8s_name("Shop", "celery") == "shop-celery"


def test_long_names_are_cut_to_63_with_a_distinguishing_hash():
    first = k8s_name("a" * 60, "worker-one")
    second = k8s_name("a" * 60, "worker-two")
    assert len(first) == len(second) == 63
    assert first != second
    assert not first.endswith("-")


def test_label_values_are_made_safe():
    assert label_value("sha256:abc") == "sha256-abc"
    assert len(label_value("v" * 100)) == 63


def test_selector_is_a_subset_of_labels_without_version():
    identity = AppIdentity(name="shop", instance="shop-prod", version="1.2.3")
    selector = identity.selector("web")
    labels = identity.labels("web")
    assert set(selector.items()) < set(labels.items())
    assert "app.kubernetes.io/version" not in selector
    assert labels["app.kubernetes.io/part-of"] == "shop"


def test_version_label_left_out_when_unknown():
    assert "app.kubernetes.io/version" not in AppIdentity(name="shop", instance="i").labels("web")
