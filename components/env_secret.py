"""A Secret that app pods read as environment variables, and the checksum that rolls them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.fingerprint import fingerprint


@dataclass(frozen=True, kw_only=True)
class EnvSecret:
    """A Secret whose keys become environment variables of every app pod."""

    name: pulumi.Input[str]
    checksum: pulumi.Input[str]
    """Changes whenever the Secret's data does, so the pods roll to pick it up."""


def env_secret(
    resource_name: str,
    metadata: k8s.meta.v1.ObjectMetaArgs,
    data: pulumi.Input[Mapping[str, pulumi.Input[str]]],
    opts: pulumi.ResourceOptions,
) -> tuple[k8s.core.v1.Secret, EnvSecret]:
    """An Opaque Secret of `data`, made a Pulumi secret whatever it comes as."""
    values = pulumi.Output.secret(pulumi.Output.from_input(data))
    secret = k8s.core.v1.Secret(resource_name, metadata=metadata, type="Opaque", string_data=values, opts=opts)
    checksum = values.apply(lambda v: fingerprint(v, length=64))
    return secret, EnvSecret(name=secret.metadata.name, checksum=checksum)
