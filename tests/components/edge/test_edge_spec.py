"""components/edge/spec.py and capabilities.py: every rule, named by its full config key."""

from __future__ import annotations

import pytest

import stack_config
from stack_config import ConfigError
from tests.conftest import MINIMAL_APP
from tools.stacks import config_from

HOST = {"name": "api.example.com"}
ACME = {"issuer": "acme", "acmeEmail": "ops@example.com"}


def load_edge(**edge) -> stack_config.StackConfig:
    values = {"shipyard:app": MINIMAL_APP, "shipyard:edge": {"enabled": True, "hosts": [HOST], "tls": ACME, **edge}}
    config, _ = config_from(values)
    return stack_config.load(config, "test")


def problems(**edge) -> str:
    with pytest.raises(ConfigError) as caught:
        load_edge(**edge)
    return "\n".join(caught.value.problems)


def test_off_by_default_and_then_nothing_is_checked():
    config, _ = config_from({"shipyard:app": MINIMAL_APP})
    assert stack_config.load(config, "test").edge.enabled is False


def test_defaults_are_the_safe_ones():
    edge = load_edge().edge
    assert (edge.api, edge.controller, edge.force_https) == ("gateway", "envoy-gateway", True)
    assert edge.hsts.header() == "max-age=31536000; includeSubDomains"
    assert edge.security_headers.headers() == {
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    assert edge.tls.acme_server == "production"


@pytest.mark.parametrize(("name", "says"), [
    ("https://api.example.com", "has a scheme"),
    ("api.example.com:443", "has a port"),
    ("api example.com", "has a space"),
    ("API.example.com", "uppercase"),
    ("api.example.com/v1", "has a path"),
    ("*.example.com", "wildcard"),
    ("localhost", "at least one dot"),
])
def test_a_host_must_be_a_bare_lowercase_dns_name(name, says):
    found = problems(hosts=[{"name": name}])
    assert "edge.hosts[0].name" in found and says in found


def test_a_host_used_twice_is_an_error():
    assert "edge.hosts has api.example.com more than once" in problems(hosts=[HOST, HOST])


def test_tls_on_without_an_issuer_is_an_error():
    assert "edge.tls.issuer is not set" in problems(tls={})


def test_acme_needs_an_email():
    found = problems(tls={"issuer": "acme"})
    assert "edge.tls" in found and "edge.tls.acmeEmail" in found


def test_existing_issuer_needs_its_name_and_ca_its_secret():
    assert "edge.tls.issuerName" in problems(tls={"issuer": "existing"})
    assert "edge.tls.caSecretName" in problems(tls={"issuer": "ca"})


def test_redirect_and_hsts_need_tls():
    found = problems(tls={"enabled": False})
    assert "edge.forceHttps needs TLS" in found and "edge.hsts needs TLS" in found
    assert load_edge(tls={"enabled": False}, forceHttps=False, hsts=None).edge.tls.enabled is False


def test_hsts_preload_needs_a_year_and_subdomains():
    assert "edge.hsts.preload needs" in problems(hsts={"preload": True, "maxAgeSeconds": 600})


def test_cors_origins_are_full_origins_and_no_wildcard_with_credentials():
    assert "'https://app.example.com/'" in problems(cors={"allowOrigins": ["https://app.example.com/"]})
    assert "refused by browsers" in problems(cors={"allowOrigins": ["*"], "allowCredentials": True})


@pytest.mark.parametrize(("api", "controller", "option", "value"), [
    ("gateway", "generic", "rateLimits", [{"path": "/", "requests": 5}]),
    ("gateway", "generic", "maxBodySize", "16Mi"),
    ("gateway", "generic", "cors", {"allowOrigins": ["https://app.example.com"]}),
    ("ingress", "nginx", "securityHeaders", {}),
    ("ingress", "traefik", "timeoutSeconds", 60),
    ("ingress", "generic", "rateLimits", [{"path": "/", "requests": 5}]),
])
def test_an_option_the_controller_cannot_express_names_both(api, controller, option, value):
    extra = {"ingressClassName": "custom"} if controller == "generic" else {}
    if api == "ingress" and controller == "generic":
        extra.update(forceHttps=False, hsts=None, securityHeaders=None)
    found = problems(api=api, controller=controller, **{**extra, option: value})
    assert f"edge.{option} cannot be expressed with {api} on {controller}" in found


def test_a_controller_of_the_other_api_is_an_error():
    assert "edge.controller nginx does not implement edge.api gateway" in problems(api="gateway", controller="nginx")


def test_nginx_takes_its_own_default_hsts_and_nothing_else():
    ok = load_edge(api="ingress", controller="nginx", securityHeaders=None).edge
    assert ok.hsts is not None
    assert "edge.hsts other than the default" in problems(
        api="ingress", controller="nginx", securityHeaders=None, hsts={"maxAgeSeconds": 600})


def test_nginx_bursts_are_multiples_of_the_rate():
    found = problems(api="ingress", controller="nginx", securityHeaders=None,
                     rateLimits=[{"path": "/api/", "requests": 10, "burst": 15}])
    assert "burst must be a multiple" in found


def test_rate_limits_must_limit_a_routed_path_once():
    found = problems(hosts=[{"name": "api.example.com", "routes": [{"path": "/api/"}]}],
                     controller="traefik", rateLimits=[{"path": "/admin/", "requests": 1}])
    assert "rateLimits on paths no route serves: /admin/" in found
    assert "more than once" in problems(controller="traefik", rateLimits=[{"path": "/a/", "requests": 1}] * 2)


def test_an_existing_gateway_is_named_and_keeps_its_certificates():
    assert "needs edge.gateway.name and edge.gateway.namespace" in problems(gateway={"create": False})
    found = problems(gateway={"create": False, "name": "shared", "namespace": "edge"})
    assert "edge.tls.issuer with an existing Gateway" in found
    config = load_edge(gateway={"create": False, "name": "shared", "namespace": "edge"}, tls={})
    assert config.edge.owns_certificates is False


def test_every_problem_is_reported_at_once():
    found = problems(hosts=[{"name": "API.example.com"}], tls={"issuer": "acme"})
    assert "edge.hosts[0].name" in found and "acmeEmail" in found


def test_another_service_needs_its_port_and_web_and_frontend_take_none():
    assert "service docs is not the stack's own, so edge.hosts[0].routes[0].port is required" in problems(
        hosts=[{"name": "a.example.com", "routes": [{"path": "/", "service": "docs"}]}])
    assert "port is for other Services" in problems(hosts=[{"name": "a.example.com", "routes": [{"port": 80}]}])
    assert "port is for other Services; frontend's port is known" in problems(
        hosts=[{"name": "a.example.com", "routes": [{"service": "frontend", "port": 3000}]}])


def test_a_capability_error_names_full_keys_once():
    found = problems(api="ingress", controller="nginx")
    assert "make edge.securityHeaders null" in found and "edge.edge." not in found and "edge.add-headers" not in found


def test_a_rate_limit_names_hosts_of_the_edge_and_a_path_once_per_host():
    two = [{"name": "api.example.com"}, {"name": "www.example.com"}]
    found = problems(hosts=two, controller="traefik", rateLimits=[
        {"path": "/", "requests": 10, "hosts": ["api.example.com", "shop.example.com"]},
        {"path": "/", "requests": 30},
    ])
    assert "edge.rateLimits names shop.example.com, not in edge.hosts" in found
    assert "rateLimits has the path / more than once for api.example.com" in found
    assert "for www.example.com" not in found
    # The same path with its own limit on each host is what per-host limits are for.
    config = load_edge(hosts=two, controller="traefik", rateLimits=[
        {"path": "/", "requests": 10, "hosts": ["api.example.com"]},
        {"path": "/", "requests": 30, "hosts": ["www.example.com"]},
    ])
    assert [r.hosts for r in config.edge.rate_limits] == [["api.example.com"], ["www.example.com"]]


def test_a_host_limit_on_a_path_its_hosts_do_not_route_is_refused():
    hosts = [{"name": "api.example.com", "routes": [{"path": "/api/"}]}, {"name": "www.example.com"}]
    found = problems(hosts=hosts, controller="traefik", rateLimits=[{"path": "/", "requests": 1, "hosts": ["api.example.com"]}])
    assert "rateLimits on paths no route serves: /" in found
