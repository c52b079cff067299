"""The app's own secrets: third-party credentials from config, and generated keys."""

from components.secrets.component import AppSecrets, AppSecretsArgs
from components.secrets.spec import SecretsSpec

__all__ = ["AppSecrets", "AppSecretsArgs", "SecretsSpec"]
