"""cert-manager objects: the ClusterIssuer a stack may create, and Certificates for Gateway listeners.

Plain builders of the objects' `spec`, so tests read them without a Pulumi run.
"""

from __future__ import annotations

from typing import Any

from components.edge.spec import TlsSpec

API_VERSION = "cert-manager.io/v1"
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


def issuer_name(tls: TlsSpec, instance: str) -> str:
    """The ClusterIssuer's name; ClusterIssuers are cluster-wide, so a created one is
    named after the app instance (`<app>-<stack>`) and never shared between stacks."""
    return tls.issuer_name or f"{instance}-{tls.issuer}"


def issuer_spec(tls: TlsSpec, *, solver: dict[str, Any], account_key: str) -> dict[str, Any]:
    """The spec of a ClusterIssuer of `tls.issuer`'s kind (acme, self-signed or ca)."""
    if tls.issuer == "acme":
        return {
            "acme": {
                "email": tls.acme_email,
                "server": ACME_SERVERS[tls.acme_server],
                # The ACME account's key; cert-manager creates it on first use.
                "privateKeySecretRef": {"name": account_key},
                "solvers": [{"http01": solver}],
            }
        }
    if tls.issuer == "self-signed":
        return {"selfSigned": {}}
    if tls.issuer == "ca":
        return {"ca": {"secretName": tls.ca_secret_name}}
    raise ValueError(f"no ClusterIssuer is created for issuer {tls.issuer!r}")


def ingress_solver(ingress_class: str) -> dict[str, Any]:
    """HTTP-01 answered through the stack's own ingress class."""
    return {"ingress": {"ingressClassName": ingress_class}}


def gateway_solver(gateway: str, namespace: str, http_listener: str) -> dict[str, Any]:
    """HTTP-01 answered through the Gateway's plain-HTTP listener (cert-manager's
    Gateway API support must be on); its exact-path route wins over the redirect."""
    return {
        "gatewayHTTPRoute": {
            "parentRefs": [
                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway,
                 "namespace": namespace, "sectionName": http_listener}
            ]
        }
    }


def certificate_spec(host: str, secret_name: str, issuer: str) -> dict[str, Any]:
    return {
        "secretName": secret_name,
        "dnsNames": [host],
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
        # A new key with every renewal: a leaked key stops working at the next one.
        "privateKey": {"rotationPolicy": "Always", "algorithm": "ECDSA", "size": 256},
    }
