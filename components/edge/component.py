"""The Edge component: how the internet reaches the app, over HTTPS.

Gateway API routes or Ingresses for the stack's hosts, the controller-specific objects
for what the standard fields cannot say (Traefik Middlewares, Envoy Gateway policies,
ingress-nginx annotations), and cert-manager's issuer and certificates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import network
from components.edge import certificates, envoy, gateway, nginx, traefik
from components.edge.routes import PathRoute, plan
from components.edge.spec import APP_SERVICE, EdgeSpec, RateLimitSpec
from components.naming import AppIdentity, k8s_name

TYPE = "shipyard:edge:Edge"
COMPONENT = "edge"
SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
SOLVER_PORT = 8089
SKIP_AWAIT = "pulumi.com/skipAwait"


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    spec: EdgeSpec
    services: Mapping[str, pulumi.Input[str]]
    """The app's Services by route name (`web`), all listening on `service_port`; any
    other name a route gives is a Service of that name, on the route's own port."""
    service_port: int
    ingress_namespace: str
    """Where the proxy runs: the only namespace ACME's HTTP-01 checks may come from."""
    after: Sequence[pulumi.Resource] = ()
    """Add-on releases whose CRDs and webhooks the edge's objects need (cert-manager, the controller)."""


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


def _limit_key(limit: RateLimitSpec) -> str:
    """What a limit's objects are named after: its path, and its first host when it names
    hosts (two limits on one path never share a host, so never a first one)."""
    return _slug(limit.path) + (f"-{_slug(limit.hosts[0])}" if limit.hosts else "")


class Edge(pulumi.ComponentResource):
    urls: pulumi.Output[list[str]]
    certificates: list[str]
    """Names of the cert-manager Certificates of the hosts (made here, or by cert-manager for an Ingress)."""

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name, self._args, self._spec = name, args, args.spec
        self._app = args.identity.name
        self._child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        self._rate_limits: dict[str, str] = {}
        self.certificates = []
        spec = args.spec
        hosts = [h.name for h in spec.hosts]
        issuer = self._cluster_issuer()
        if spec.api == "ingress":
            self._ingresses(plan(spec), issuer)
        else:
            self._gateway_routes(plan(spec), issuer)
        if issuer is not None and spec.tls.issuer == "acme":
            self._solver_policy()
        scheme = "https" if spec.tls.enabled else "http"
        self.urls = pulumi.Output.from_input([f"{scheme}://{host}" for host in hosts])
        self.register_outputs({"urls": self.urls})

    # -- shared ------------------------------------------------------------------------

    def _metadata(self, name: str) -> dict[str, Any]:
        return {"name": name, "namespace": self._args.namespace, "labels": self._args.identity.labels(COMPONENT)}

    def _custom(self, resource_name: str, api_version: str, kind: str, metadata: dict[str, Any],
                spec: dict[str, Any]) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            resource_name, api_version=api_version, kind=kind, metadata=metadata, spec=spec, opts=self._child
        )

    def _cluster_issuer(self) -> str | None:
        """The ClusterIssuer certificates come from (made here unless it exists), or None."""
        spec = self._spec
        tls = spec.tls
        if not (tls.enabled and spec.owns_certificates and tls.issuer):
            return None
        name = certificates.issuer_name(tls, self._args.identity.instance)
        if tls.issuer == "existing":
            return name
        if spec.api == "ingress":
            solver = certificates.ingress_solver(self._ingress_class())
        else:
            solver = certificates.gateway_solver(self._gateway_name(), self._gateway_namespace(), spec.gateway.http_listener)
        self._custom(
            f"{self._name}-issuer", certificates.API_VERSION, "ClusterIssuer",
            {"name": name, "labels": self._args.identity.labels(COMPONENT)},
            certificates.issuer_spec(tls, solver=solver, account_key=k8s_name(name, "account-key")),
        )
        return name

    def _solver_policy(self) -> None:
        """The namespace denies all ingress; cert-manager's HTTP-01 solver pods must be
        reachable from the proxy, on their port only."""
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-acme-solver",
            metadata=self._metadata(k8s_name(self._app, "acme-solver")),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={SOLVER_LABEL: "true"}),
                policy_types=["Ingress"],
                ingress=[network.ingress_rule([network.namespace_peer(self._args.ingress_namespace)],
                                              network.tcp(SOLVER_PORT))],
            ),
            opts=self._child,
        )

    def _backend(self, route: PathRoute) -> tuple[pulumi.Input[str], int]:
        """The Service and port a route sends to."""
        if route.port is None:
            return self._args.services[route.service], self._args.service_port
        return route.service, route.port

    def _route_name(self, route: PathRoute) -> str:
        index = [h.name for h in self._spec.hosts].index(route.host)
        return k8s_name(self._app, *([f"h{index}"] if index else []), _slug(route.path))

    # -- Ingress -----------------------------------------------------------------------

    def _ingress_class(self) -> str:
        return self._spec.ingress_class_name or self._spec.controller

    def _ingresses(self, routes: list[PathRoute], issuer: str | None) -> None:
        spec = self._spec
        hosts = [h.name for h in spec.hosts]
        tls = [k8s.networking.v1.IngressTLSArgs(hosts=hosts, secret_name=k8s_name(self._app, "tls"))] if spec.tls.enabled else None
        if tls and issuer is not None:
            # cert-manager names the Certificate it makes for an Ingress after its Secret.
            self.certificates.append(k8s_name(self._app, "tls"))
        middlewares = self._traefik_middlewares(with_standard_headers=True) if spec.controller == "traefik" else {}
        groups: dict[str, list[PathRoute]] = {}
        for route in routes:
            groups.setdefault(_limit_key(route.rate_limit) if route.rate_limit else "", []).append(route)
        first = True
        for key, members in sorted(groups.items()):
            limit = members[0].rate_limit
            name = k8s_name(self._app, "limit", key) if key else self._app
            annotations: dict[str, Any] = {}
            if first and issuer:
                # One Ingress asks cert-manager for the certificate; the others share its Secret.
                annotations[certificates.CLUSTER_ISSUER_ANNOTATION] = issuer
            first = False
            if spec.controller == "nginx":
                annotations.update(nginx.annotations(spec, limit))
            elif spec.controller == "traefik":
                chain = [middlewares[m] for m in ("headers", "body") if m in middlewares]
                if limit is not None:
                    chain.append(self._traefik_rate_limit(limit))
                annotations.update(self._traefik_router(chain, secure=spec.tls.enabled, plain=not spec.force_https))
            self._ingress(f"{self._name}-ingress-{key or 'main'}", name, members, tls, annotations)
        if spec.controller == "traefik" and spec.force_https:
            redirect = [PathRoute(host, "/", APP_SERVICE) for host in hosts]
            self._ingress(f"{self._name}-ingress-redirect", k8s_name(self._app, "redirect"), redirect, None,
                          self._traefik_router([middlewares["redirect"]], secure=False, plain=True))

    def _ingress(self, resource_name: str, name: str, routes: list[PathRoute], tls, annotations) -> None:
        if not self._spec.await_address:
            annotations = {**annotations, SKIP_AWAIT: "true"}
        rules = []
        for host in dict.fromkeys(r.host for r in routes):
            paths = [
                k8s.networking.v1.HTTPIngressPathArgs(
                    path=r.path, path_type="Prefix",
                    backend=k8s.networking.v1.IngressBackendArgs(service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=self._backend(r)[0],
                        port=k8s.networking.v1.ServiceBackendPortArgs(number=self._backend(r)[1]),
                    )),
                )
                for r in routes if r.host == host
            ]
            rules.append(k8s.networking.v1.IngressRuleArgs(host=host, http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=paths)))
        k8s.networking.v1.Ingress(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=name, namespace=self._args.namespace, labels=self._args.identity.labels(COMPONENT),
                annotations=annotations or None,
            ),
            spec=k8s.networking.v1.IngressSpecArgs(ingress_class_name=self._ingress_class(), rules=rules, tls=tls),
            opts=self._child,
        )

    # -- Traefik -----------------------------------------------------------------------

    def _middleware(self, key: str, spec: dict[str, Any]) -> str:
        name = k8s_name(self._app, key)
        self._custom(f"{self._name}-middleware-{key}", traefik.API_VERSION, "Middleware", self._metadata(name), spec)
        return name

    def _traefik_middlewares(self, *, with_standard_headers: bool) -> dict[str, str]:
        """The Middlewares every route uses, by role."""
        made = {}
        for role, spec in (
            ("headers", traefik.headers_spec(self._spec, with_standard_headers=with_standard_headers)),
            ("body", traefik.body_limit_spec(self._spec)),
        ):
            if spec is not None:
                made[role] = self._middleware(role, spec)
        if self._spec.api == "ingress" and self._spec.force_https:
            made["redirect"] = self._middleware("redirect", traefik.redirect_spec())
        return made

    def _traefik_rate_limit(self, limit: RateLimitSpec) -> str:
        """The rateLimit Middleware of a limit, made once however many hosts route its path."""
        key = f"limit-{_limit_key(limit)}"
        if key not in self._rate_limits:
            self._rate_limits[key] = self._middleware(key, traefik.rate_limit_spec(limit))
        return self._rate_limits[key]

    def _traefik_router(self, middlewares: list[str], *, secure: bool, plain: bool) -> dict[str, Any]:
        entrypoints = [e for e, on in (("web", plain), ("websecure", secure)) if on]
        annotations: dict[str, Any] = {"traefik.ingress.kubernetes.io/router.entrypoints": ",".join(entrypoints)}
        if secure:
            annotations["traefik.ingress.kubernetes.io/router.tls"] = "true"
        if middlewares:
            annotations[traefik.MIDDLEWARES_ANNOTATION] = pulumi.Output.from_input(self._args.namespace).apply(
                lambda ns: ",".join(traefik.reference(ns, name) for name in middlewares)
            )
        return annotations

    # -- Gateway API -------------------------------------------------------------------

    def _gateway_name(self) -> str:
        return self._spec.gateway.name or self._app

    def _gateway_namespace(self) -> pulumi.Input[str]:
        return self._spec.gateway.namespace if not self._spec.gateway.create else self._args.namespace

    def _gateway_routes(self, routes: list[PathRoute], issuer: str | None) -> None:
        spec = self._spec
        hosts = [h.name for h in spec.hosts]
        gw, gw_ns = self._gateway_name(), self._gateway_namespace()
        if spec.gateway.create:
            class_name = spec.gateway.class_name or gateway.DEFAULT_CLASS.get(spec.controller)
            self._custom(f"{self._name}-gateway", gateway.API_VERSION, "Gateway", self._metadata(gw),
                         gateway.gateway_spec(class_name or gw, hosts, spec.gateway.http_listener, spec.tls.enabled,
                                              gateway.ports(spec.controller, spec.gateway.http_port, spec.gateway.https_port)))
            if issuer is not None:
                for host in hosts:
                    secret = gateway.tls_secret(host)
                    self.certificates.append(secret)
                    self._custom(f"{self._name}-certificate-{_slug(host)}", certificates.API_VERSION, "Certificate",
                                 self._metadata(secret), certificates.certificate_spec(host, secret, issuer))
        http = gateway.parent(gw, gw_ns, spec.gateway.http_listener)

        def secure_parents(host: str) -> list[dict[str, Any]]:
            if not spec.tls.enabled:
                return [http]
            section = gateway.https_listener(host) if spec.gateway.create else spec.gateway.https_listener
            return [gateway.parent(gw, gw_ns, section), *([] if spec.force_https else [http])]

        if spec.force_https:
            self._custom(f"{self._name}-route-redirect", gateway.API_VERSION, "HTTPRoute",
                         self._metadata(k8s_name(self._app, "redirect")), gateway.redirect_route_spec([http], hosts))
        headers = {**({"Strict-Transport-Security": spec.hsts.header()} if spec.hsts else {}),
                   **(spec.security_headers.headers() if spec.security_headers else {})}
        middlewares = self._traefik_middlewares(with_standard_headers=False) if spec.controller == "traefik" else {}
        names = []
        for route in routes:
            name = self._route_name(route)
            names.append(name)
            extensions = [gateway.extension_ref(middlewares[r]) for r in ("headers", "body") if r in middlewares]
            if route.rate_limit is not None and spec.controller == "traefik":
                extensions.append(gateway.extension_ref(self._traefik_rate_limit(route.rate_limit)))
            self._custom(f"{self._name}-route-{name}", gateway.API_VERSION, "HTTPRoute", self._metadata(name),
                         gateway.route_spec(secure_parents(route.host), route.host, route.path, *self._backend(route),
                                            response_headers=headers, timeout_seconds=spec.timeout_seconds,
                                            extension_filters=extensions))
            if spec.controller == "envoy-gateway":
                policy = envoy.traffic_policy_spec(spec, name, route.rate_limit)
                if policy is not None:
                    self._custom(f"{self._name}-traffic-{name}", envoy.API_VERSION, "BackendTrafficPolicy",
                                 self._metadata(name), policy)
        if spec.controller == "envoy-gateway" and spec.cors is not None:
            self._custom(f"{self._name}-cors", envoy.API_VERSION, "SecurityPolicy",
                         self._metadata(k8s_name(self._app, "cors")), envoy.security_policy_spec(spec.cors, names))
