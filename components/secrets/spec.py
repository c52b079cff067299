"""What a stack can put in the app's Secret."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from components.backend.spec import EnvName
from components.spec import DNS_LABEL, Spec, is_production, rule_error

SecretName = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
# Where mounted files may not go: over the image's own tree, or over the scratch space.
_RESERVED_MOUNTS = ("/", "/tmp", "/etc", "/usr", "/bin", "/lib", "/proc", "/sys", "/dev", "/var/run/secrets")


class SecretsSpec(Spec):
    """Environment variables that hold credentials, kept only in a Kubernetes Secret.

    Values are set with `pulumi config set --secret --path 'secrets.values.NAME'`, so
    the stack file holds only ciphertext; generated keys never appear anywhere but
    in the encrypted state and the Secret.
    """

    values: dict[EnvName, SecretStr] = {}
    """Credentials from config (API keys, SMTP password, ...), by variable name."""
    required: list[EnvName] = []
    """Variables the app cannot run without. In production each must be in `values`
    (or `generated`); a missing one stops the deployment with the command that sets it."""
    generated: Annotated[list[EnvName], Field(max_length=50)] = []
    """Variables filled with a random key made once and kept (SECRET_KEY, JWT_SECRET_KEY)."""
    length: int = Field(default=64, ge=32, le=256)
    """Length of each generated key, in letters and digits."""
    rotate: dict[EnvName, Annotated[int, Field(ge=1)]] = {}
    """Generated keys to replace, each with a number: a key keeps its value across every
    `up` until its number here is added or raised; then the next `up` makes a new one
    (in production, after `pulumi state unprotect` of that key; see the README)."""
    existing: list[SecretName] = []
    """Secrets made outside the stack (External Secrets, sealed secrets, by hand) that every
    app pod also reads with envFrom; they must exist in the namespace before the pods start."""
    mount_path: str | None = None
    """Also mount the stack's Secret, and each `existing` one in a directory of its name,
    as read-only files under this path (e.g. /run/secrets/app), for apps that read
    credentials from files."""

    @model_validator(mode="after")
    def _names_unique(self) -> SecretsSpec:
        repeated = sorted({n for n in self.generated if self.generated.count(n) > 1})
        both = sorted(set(self.generated) & set(self.values))
        if repeated:
            raise rule_error(f"`generated` names must be unique; repeated: {', '.join(repeated)}")
        if both:
            raise rule_error(f"{', '.join(both)} is in both `values` and `generated`; keep one")
        return self

    @model_validator(mode="after")
    def _rotation_and_files(self) -> SecretsSpec:
        unknown = sorted(set(self.rotate) - set(self.generated))
        if unknown:
            raise rule_error(f"`rotate` names {', '.join(unknown)}, not in `generated`: only generated keys can be rotated")
        repeated = sorted({n for n in self.existing if self.existing.count(n) > 1})
        if repeated:
            raise rule_error(f"`existing` names {', '.join(repeated)} more than once")
        path = self.mount_path
        if path is not None:
            if not path.startswith("/") or (path.rstrip("/") or "/") in _RESERVED_MOUNTS or ".." in path:
                raise rule_error(f"`mountPath` ({path}) must be an absolute path of its own, such as /run/secrets/app, "
                                 f"not one of {', '.join(_RESERVED_MOUNTS)}")
        return self

    @model_validator(mode="after")
    def _required_present(self, info: ValidationInfo) -> SecretsSpec:
        missing = [n for n in dict.fromkeys(self.required) if n not in self.values and n not in self.generated]
        if missing and is_production(info):
            stack = (info.context or {}).get("stack", "<stack>")
            commands = "".join(
                f"\n      pulumi config set --secret --path 'secrets.values.{name}' --stack {stack} <value>"
                for name in missing
            )
            raise rule_error(f"`required` names {len(missing)} secret(s) with no value: {', '.join(missing)}; set each with:{commands}")
        return self

    @property
    def empty(self) -> bool:
        """No Secret of the stack's own (there may still be `existing` ones)."""
        return not self.values and not self.generated
