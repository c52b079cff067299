"""components/edge: what each routing API and controller gets for the same options."""

from __future__ import annotations

from typing import Any

from tests.conftest import MINIMAL_APP, run_stack
from tools.recording import Recording

HOSTS = [{"name": "api.example.com"}, {"name": "www.example.com", "routes": [{"path": "/app/"}]}]
ACME = {"issuer": "acme", "acmeEmail": "ops@example.com"}
LIMITS = [{"path": "/api/", "requests": 10}, {"path": "/api/auth/", "requests": 5, "per": "minute"}]
CORS = {"allowOrigins": ["https://app.example.com"], "allowCredentials": True}


def edge(**options: Any) -> Recording:
    return run_stack(app=MINIMAL_APP, edge={"enabled": True, "hosts": HOSTS[:1], "tls": ACME, **options})


def routes(recording: Recording) -> dict[str, dict[str, Any]]:
    return {r.object_name: r.inputs["spec"] for r in recording.find("HTTPRoute")}


def annotations(recording: Recording, name: str) -> dict[str, str]:
    return recording.one("Ingress", name)["metadata"].get("annotations") or {}


# -- Gateway API ---------------------------------------------------------------------


def test_a_created_gateway_has_http_and_an_https_listener_per_host_with_its_certificate():
    recording = edge(hosts=HOSTS)
    gateway = recording.one("Gateway", "shop")["spec"]
    assert gateway["gatewayClassName"] == "eg"
    listeners = {listener["name"]: listener for listener in gateway["listeners"]}
    assert listeners["http"]["port"] == 80 and "hostname" not in listeners["http"]
    assert listeners["https-api-example-com"]["port"] == 443
    secure = listeners["https-api-example-com"]
    assert (secure["hostname"], secure["port"], secure["protocol"]) == ("api.example.com", 443, "HTTPS")
    assert secure["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "api-example-com-tls"}]
    assert {listener["allowedRoutes"]["namespaces"]["from"] for listener in gateway["listeners"]} == {"Same"}
    certificate = recording.one("Certificate", "api-example-com-tls")["spec"]
    assert certificate["dnsNames"] == ["api.example.com"] and certificate["secretName"] == "api-example-com-tls"
    assert certificate["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "shop-test-acme"}


def test_acme_answers_http01_through_the_gateway_and_the_solver_pods_are_reachable():
    recording = edge()
    issuer = recording.one("ClusterIssuer", "shop-test-acme")["spec"]["acme"]
    assert issuer["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert issuer["email"] == "ops@example.com"
    [solver] = issuer["solvers"]
    assert solver["http01"]["gatewayHTTPRoute"]["parentRefs"][0] == {
        "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shop", "namespace": "shop-test", "sectionName": "http",
    }
    policy = recording.one("NetworkPolicy", "shop-acme-solver")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8089}]
    assert policy["policyTypes"] == ["Ingress"]


def test_plain_http_is_redirected_and_every_route_sets_hsts_and_the_security_headers():
    found = routes(edge(hosts=HOSTS, timeoutSeconds=60))
    redirect = found.pop("shop-redirect")
    assert redirect["parentRefs"][0]["sectionName"] == "http"
    assert redirect["hostnames"] == ["api.example.com", "www.example.com"]
    assert redirect["rules"][0]["filters"] == [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    assert set(found) == {"shop-root", "shop-h1-app"}
    assert [p["sectionName"] for p in found["shop-h1-app"]["parentRefs"]] == ["https-www-example-com"]
    for spec in found.values():
        [rule] = spec["rules"]
        [modifier] = rule["filters"]
        assert {h["name"]: h["value"] for h in modifier["responseHeaderModifier"]["set"]} == {
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        }
        assert rule["timeouts"] == {"request": "60s"}
        assert rule["backendRefs"] == [{"kind": "Service", "name": "shop", "port": 80}]


def test_envoy_gateway_limits_each_limited_path_per_client_and_bounds_bodies():
    recording = edge(rateLimits=LIMITS, maxBodySize="16Mi")
    assert set(routes(recording)) == {"shop-redirect", "shop-root", "shop-api", "shop-api-auth"}
    assert routes(recording)["shop-api-auth"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/api/auth/"}}]
    policies = {p.object_name: p.inputs["spec"] for p in recording.find("BackendTrafficPolicy")}
    assert set(policies) == {"shop-root", "shop-api", "shop-api-auth"}
    assert all(p["requestBuffer"] == {"limit": "16Mi"} for p in policies.values())
    assert "rateLimit" not in policies["shop-root"]
    [rule] = policies["shop-api-auth"]["rateLimit"]["global"]["rules"]
    assert rule["limit"] == {"requests": 5, "unit": "Minute"}
    assert rule["clientSelectors"] == [{"sourceCIDR": {"type": "Distinct", "value": "0.0.0.0/0"}}]
    assert policies["shop-api"]["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "shop-api"}]


def test_envoy_gateway_cors_covers_every_route():
    recording = edge(rateLimits=LIMITS[:1], cors=CORS)
    cors = recording.one("SecurityPolicy", "shop-cors")["spec"]
    assert {t["name"] for t in cors["targetRefs"]} == {"shop-root", "shop-api"}
    assert cors["cors"]["allowOrigins"] == ["https://app.example.com"] and cors["cors"]["allowCredentials"] is True


def test_traefik_gateway_uses_standard_filters_first_and_middlewares_for_the_rest():
    recording = edge(controller="traefik", rateLimits=LIMITS, maxBodySize="16Mi", cors=CORS)
    gateway = recording.one("Gateway", "shop")["spec"]
    assert gateway["gatewayClassName"] == "traefik"
    # Traefik matches listeners to its entry points by port: its chart's web and websecure.
    assert [listener["port"] for listener in gateway["listeners"]] == [8000, 8443]
    middlewares = {m.object_name: m.inputs["spec"] for m in recording.find("Middleware")}
    assert middlewares["shop-body"] == {"buffering": {"maxRequestBodyBytes": 16 * 2**20}}
    assert middlewares["shop-limit-api-auth"] == {"rateLimit": {"average": 5, "period": "1m", "burst": 5}}
    # HSTS and the security headers go in the standard filter, so the Middleware holds CORS only.
    assert not {"stsSeconds", "customResponseHeaders"} & set(middlewares["shop-headers"]["headers"])
    assert middlewares["shop-headers"]["headers"]["accessControlAllowOriginList"] == ["https://app.example.com"]
    filters = routes(recording)["shop-api-auth"]["rules"][0]["filters"]
    assert [f["type"] for f in filters] == ["ResponseHeaderModifier", "ExtensionRef", "ExtensionRef", "ExtensionRef"]
    assert [f["extensionRef"]["name"] for f in filters[1:]] == ["shop-headers", "shop-body", "shop-limit-api-auth"]
    assert recording.find("BackendTrafficPolicy") == []


def test_an_existing_gateway_gets_routes_only():
    recording = edge(gateway={"create": False, "name": "shared", "namespace": "edge", "httpsListener": "https"}, tls={})
    assert recording.find("Gateway") == recording.find("Certificate") == recording.find("ClusterIssuer") == []
    found = routes(recording)
    assert found["shop-redirect"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared", "namespace": "edge", "sectionName": "http"}
    ]
    assert found["shop-root"]["parentRefs"][0]["sectionName"] == "https"


def test_without_the_redirect_routes_also_answer_plain_http():
    found = routes(edge(forceHttps=False))
    assert "shop-redirect" not in found
    assert [p["sectionName"] for p in found["shop-root"]["parentRefs"]] == ["https-api-example-com", "http"]


# -- Ingress ---------------------------------------------------------------------------


def test_nginx_ingress_says_everything_with_annotations_and_one_certificate_request():
    recording = edge(api="ingress", controller="nginx", securityHeaders=None, hosts=HOSTS, rateLimits=LIMITS,
                     maxBodySize="16Mi", timeoutSeconds=60, cors=CORS)
    ingresses = {i.object_name: i.inputs for i in recording.find("Ingress")}
    assert set(ingresses) == {"shop", "shop-limit-api", "shop-limit-api-auth"}
    main = ingresses["shop"]
    assert main["spec"]["ingressClassName"] == "nginx"
    assert main["spec"]["tls"] == [{"hosts": ["api.example.com", "www.example.com"], "secretName": "shop-tls"}]
    assert {r["host"]: [p["path"] for p in r["http"]["paths"]] for r in main["spec"]["rules"]} == {
        "api.example.com": ["/"], "www.example.com": ["/app/"],
    }
    assert annotations(recording, "shop")["cert-manager.io/cluster-issuer"] == "shop-test-acme"
    limited = annotations(recording, "shop-limit-api-auth")
    assert "cert-manager.io/cluster-issuer" not in limited
    assert limited["nginx.ingress.kubernetes.io/limit-rpm"] == "5"
    assert limited["nginx.ingress.kubernetes.io/limit-burst-multiplier"] == "1"
    assert annotations(recording, "shop-limit-api")["nginx.ingress.kubernetes.io/limit-rps"] == "10"
    for name in ingresses:
        found = annotations(recording, name)
        assert found["nginx.ingress.kubernetes.io/proxy-body-size"] == "16m"
        assert found["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        assert found["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "60"
        assert found["nginx.ingress.kubernetes.io/cors-allow-origin"] == "https://app.example.com"
        assert not [a for a in found if "snippet" in a]
    issuer = recording.one("ClusterIssuer")["spec"]["acme"]["solvers"][0]["http01"]
    assert issuer == {"ingress": {"ingressClassName": "nginx"}}


def test_traefik_ingress_chains_middlewares_and_redirects_on_the_web_entrypoint():
    recording = edge(api="ingress", controller="traefik", rateLimits=LIMITS[:1], maxBodySize="1Mi")
    main = annotations(recording, "shop")
    assert main["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
    assert main["traefik.ingress.kubernetes.io/router.tls"] == "true"
    assert main["traefik.ingress.kubernetes.io/router.middlewares"] == "shop-test-shop-headers@kubernetescrd,shop-test-shop-body@kubernetescrd"
    assert annotations(recording, "shop-limit-api")["traefik.ingress.kubernetes.io/router.middlewares"].endswith(
        ",shop-test-shop-limit-api@kubernetescrd")
    redirect = annotations(recording, "shop-redirect")
    assert redirect["traefik.ingress.kubernetes.io/router.entrypoints"] == "web"
    assert redirect["traefik.ingress.kubernetes.io/router.middlewares"] == "shop-test-shop-redirect@kubernetescrd"
    headers = recording.one("Middleware", "shop-headers")["spec"]["headers"]
    assert (headers["stsSeconds"], headers["stsIncludeSubdomains"], headers["stsPreload"]) == (31536000, True, False)
    assert headers["customResponseHeaders"]["X-Frame-Options"] == "DENY"
    assert recording.one("Middleware", "shop-redirect")["spec"] == {"redirectScheme": {"scheme": "https", "permanent": True}}


def test_the_stack_exports_the_public_url_of_each_host():
    recording = edge(hosts=HOSTS)
    assert recording.outputs["urls"] == ["https://api.example.com", "https://www.example.com"]


def test_self_signed_and_existing_issuers():
    assert edge(tls={"issuer": "self-signed"}).one("ClusterIssuer", "shop-test-self-signed")["spec"] == {"selfSigned": {}}
    existing = edge(api="ingress", controller="nginx", securityHeaders=None, tls={"issuer": "existing", "issuerName": "letsencrypt"})
    assert existing.find("ClusterIssuer") == [] and existing.find("NetworkPolicy", "shop-acme-solver") == []
    assert annotations(existing, "shop")["cert-manager.io/cluster-issuer"] == "letsencrypt"


def test_ingresses_are_awaited_unless_no_controller_runs():
    def skip(**options: Any) -> set[str | None]:
        recording = edge(api="ingress", controller="nginx", securityHeaders=None, rateLimits=LIMITS[:1], **options)
        return {annotations(recording, i.object_name).get("pulumi.com/skipAwait") for i in recording.find("Ingress")}

    assert skip() == {None}
    assert skip(awaitAddress=False) == {"true"}


def test_paths_can_go_to_other_services_of_the_namespace():
    hosts = [{"name": "bikes.example.com", "routes": [{"path": "/"}, {"path": "/docs/", "service": "docs", "port": 8080}]}]
    found = routes(edge(hosts=hosts, controller="traefik", rateLimits=[{"path": "/docs/api/", "requests": 1}]))
    assert found["shop-docs"]["rules"][0]["backendRefs"] == [{"kind": "Service", "name": "docs", "port": 8080}]
    # A limit under /docs/ goes where /docs/ goes.
    assert found["shop-docs-api"]["rules"][0]["backendRefs"] == [{"kind": "Service", "name": "docs", "port": 8080}]
    assert found["shop-root"]["rules"][0]["backendRefs"] == [{"kind": "Service", "name": "shop", "port": 80}]
    ingress = edge(api="ingress", controller="traefik", hosts=hosts).one("Ingress", "shop")
    backends = [p["backend"]["service"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    assert backends == [{"name": "shop", "port": {"number": 80}}, {"name": "docs", "port": {"number": 8080}}]


PER_HOST = [{"path": "/", "requests": 10, "burst": 20, "hosts": ["api.example.com"]},
            {"path": "/", "requests": 30, "burst": 60, "hosts": ["www.example.com"]}]
TWO_HOSTS = [{"name": "api.example.com"}, {"name": "www.example.com"}]


def test_each_host_gets_its_own_limit_on_the_same_path():
    nginx = edge(api="ingress", controller="nginx", securityHeaders=None, hosts=TWO_HOSTS, rateLimits=PER_HOST)
    ingresses = {i.object_name: i.inputs for i in nginx.find("Ingress")}
    assert set(ingresses) == {"shop-limit-root-api-example-com", "shop-limit-root-www-example-com"}
    for name, host, rps, multiplier in (("shop-limit-root-api-example-com", "api.example.com", "10", "2"),
                                        ("shop-limit-root-www-example-com", "www.example.com", "30", "2")):
        assert [r["host"] for r in ingresses[name]["spec"]["rules"]] == [host]
        found = annotations(nginx, name)
        assert (found["nginx.ingress.kubernetes.io/limit-rps"], found["nginx.ingress.kubernetes.io/limit-burst-multiplier"]) == \
            (rps, multiplier)
    envoy = edge(hosts=TWO_HOSTS, rateLimits=[{k: v for k, v in limit.items() if k != "burst"} for limit in PER_HOST])
    policies = {p.object_name: p.inputs["spec"] for p in envoy.find("BackendTrafficPolicy")}
    limits = {name: p["rateLimit"]["global"]["rules"][0]["limit"]["requests"] for name, p in policies.items()}
    assert limits == {"shop-root": 10, "shop-h1-root": 30}
    traefik = edge(controller="traefik", hosts=TWO_HOSTS, rateLimits=PER_HOST)
    middlewares = {m.object_name: m.inputs["spec"]["rateLimit"]["average"] for m in traefik.find("Middleware")
                   if "rateLimit" in m.inputs["spec"]}
    assert middlewares == {"shop-limit-root-api-example-com": 10, "shop-limit-root-www-example-com": 30}
