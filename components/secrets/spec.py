"""What a stack can put in the app's Secret."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, model_validator

from components.backend.spec import EnvName
from components.spec import Spec, rule_error


class SecretsSpec(Spec):
    """Environment variables that hold credentials, kept only in a Kubernetes Secret.

    Values are set with `pulumi config set --secret --path 'secrets.values.NAME'`, so
    the stack file holds only ciphertext; generated keys never appear anywhere but
    in the encrypted state and the Secret.
    """

    values: dict[EnvName, SecretStr] = {}
    """Credentials from config (API keys, SMTP password, ...), by variable name."""
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

    @property
    def empty(self) -> bool:
        return not self.values and not self.generated
