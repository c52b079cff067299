"""The AppSecrets component: one Secret that every app pod reads with envFrom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.env_secret import EnvSecret, env_secret

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
    rotation: Mapping[str, int] = field(default_factory=dict)
    """Generated variables to make anew, by number: raising it replaces the key."""
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

        data: dict[str, pulumi.Input[str]] = dict(args.values)
        for variable in args.generated:
            rotation = args.rotation.get(variable)
            generated = random.RandomPassword(
                f"{name}-{variable.lower().replace('_', '-')}",
                length=args.length,
                # Letters and digits only: safe in URLs, shells and .env syntax.
                special=False,
                # A changed keeper makes a new key. None until a first rotation, so keys
                # made before rotation existed keep their value.
                keepers={"rotation": str(rotation)} if rotation else None,
                opts=keep,
            )
            data[variable] = generated.result

        secret, self.env_secret = env_secret(
            f"{name}-secret",
            k8s.meta.v1.ObjectMetaArgs(name=args.object_name, namespace=args.namespace, labels=args.labels),
            data,
            keep,
        )
        self.secret_name = secret.metadata.name
        self.register_outputs({"secret_name": self.secret_name})
