"""The AppSecrets component: one Secret that every app pod reads with envFrom."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.backend import EnvSecret

TYPE = "shipyard:app:Secrets"


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    namespace: pulumi.Input[str]
    object_name: str
    """Name of the Kubernetes Secret."""
    labels: dict[str, str] = field(default_factory=dict)
    values: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Credentials by variable name; wrapped as Pulumi secrets here whatever they come as."""
    generated: Sequence[str] = ()
    """Variables to fill with a random key made once and then kept."""
    length: int = 64
    protect: bool = False
    """Guard the Secret and the generated keys against deletion and replacement:
    a new SECRET_KEY logs every user out and breaks every signed token."""


class AppSecrets(pulumi.ComponentResource):
    """A Secret of credentials and generated keys, and its checksum for rollouts."""

    env_secret: EnvSecret
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)

        data: dict[str, pulumi.Input[str]] = {
            key: pulumi.Output.secret(value) for key, value in args.values.items()
        }
        for variable in args.generated:
            generated = random.RandomPassword(
                f"{name}-{variable.lower().replace('_', '-')}",
                length=args.length,
                # Letters and digits only: safe in URLs, shells and .env syntax.
                special=False,
                opts=keep,
            )
            data[variable] = generated.result

        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.object_name, namespace=args.namespace, labels=args.labels
            ),
            type="Opaque",
            string_data=data,
            opts=keep,
        )
        self.secret_name = secret.metadata.name
        checksum = pulumi.Output.all(**data).apply(
            lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
        )
        self.env_secret = EnvSecret(name=self.secret_name, checksum=pulumi.Output.secret(checksum))
        self.register_outputs({"secret_name": self.secret_name})
