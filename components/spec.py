"""The base every configuration spec derives from.

Specs are the typed, validated values that stack config is parsed into and that
components take as arguments. They are frozen (a component cannot change what the
user asked for), forbid unknown keys (a typo is an error, not a silent default) and
read camelCase keys, as Pulumi stack files are written, into snake_case fields.
"""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.quantities import MemoryQuantity


class Spec(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


DNS_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
"""Kubernetes object and namespace names: lowercase letters, digits and inner dashes."""

Environment = Literal["development", "staging", "production"]
"""Production turns on the rules that keep a live service up and its data safe."""


def is_production(info: ValidationInfo) -> bool:
    """Whether the stack being validated is a production one (from the validation context)."""
    return bool(info.context) and info.context.get("environment") == "production"


def rule_error(message: str, **values: object) -> PydanticCustomError:
    """An error for a rule that spans fields of one spec.

    Write field names in backticks (`replicas.max`); the stack config module
    prefixes them with the spec's own key path so the message names full keys.
    """
    return PydanticCustomError("rule", message, values or None)


def spec_type(annotation: object) -> type[BaseModel] | None:
    """The spec inside a field's type (`X`, `X | None`, `list[X]`), or None for plain values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = spec_type(argument)
        if found is not None:
            return found
    return None


class StorageSpec(Spec):
    """A volume claim: its size and class. Data volumes are kept when their pods go."""

    size: MemoryQuantity = "10Gi"
    """Capacity of the volume claim."""
    storage_class: str | None = None
    """StorageClass of the claim; the cluster's default when not given."""
