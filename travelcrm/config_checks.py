"""Start-up checks of the secrets read from the environment (house rule 1: fail at start-up).

Kept free of Django imports so settings.py can call it before Django is configured.
"""

from cryptography.fernet import Fernet


class ConfigError(Exception):
    """A setting is missing or unsafe; the message names the variable in one line."""


MIN_SECRET_KEY_LENGTH = 50
MIN_BLIND_INDEX_KEY_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12


def fernet_keys(raw: str) -> list[str]:
    """Split FIELD_ENCRYPTION_KEY (comma-separated, newest first) and check every key is Fernet."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise ConfigError("FIELD_ENCRYPTION_KEY is not set (comma-separated Fernet keys, newest first)")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return keys


def _require(name: str, value: str, min_length: int, dev_values: set[str]) -> None:
    if not value:
        raise ConfigError(f"{name} is not set (required when DEBUG is off)")
    if value in dev_values or "insecure" in value.lower() or "change-me" in value.lower():
        raise ConfigError(f"{name} is a development value; set a real secret")
    if len(value) < min_length:
        raise ConfigError(f"{name} is too short ({len(value)} characters, at least {min_length} required)")
    if len(set(value)) < 8:
        raise ConfigError(f"{name} is too weak (too few distinct characters)")


def check_production_secrets(
    *, secret_key: str, field_encryption_key: str, blind_index_key: str, admin_password: str, dev_values: set[str]
) -> None:
    _require("SECRET_KEY", secret_key, MIN_SECRET_KEY_LENGTH, dev_values)
    if not field_encryption_key:
        raise ConfigError("FIELD_ENCRYPTION_KEY is not set (required when DEBUG is off)")
    if field_encryption_key in dev_values:
        raise ConfigError("FIELD_ENCRYPTION_KEY is a development value; set a real key")
    fernet_keys(field_encryption_key)
    _require("BLIND_INDEX_KEY", blind_index_key, MIN_BLIND_INDEX_KEY_LENGTH, dev_values)
    if blind_index_key in field_encryption_key:
        raise ConfigError("BLIND_INDEX_KEY must differ from FIELD_ENCRYPTION_KEY")
    _require("ADMIN_PASSWORD", admin_password, MIN_ADMIN_PASSWORD_LENGTH, dev_values)
