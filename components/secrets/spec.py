"""What a stack can put in the app's Secret."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from components.backend.spec import EnvName
from components.spec import Spec, is_production, rule_error


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
        return not self.values and not self.generated
