"""API keys: the OS keyring per profile (service "opro-studio"), else the environment; scrubbing."""

from __future__ import annotations

import logging
import os
import re

SERVICE = "opro-studio"
NO_KEY = "sk-no-key"  # sent to local servers that need no key

log = logging.getLogger(__name__)

# Anything shaped like a provider key, in case a server echoes a (partly masked) key back.
_KEYLIKE = re.compile(r"\b(sk|gsk|rk|pk|or)-[A-Za-z0-9_\-*.]{8,}")


class SecretStoreError(RuntimeError):
    """The keyring could not store or delete a key (no backend, locked, refused)."""


def get_key(profile: str) -> str | None:
    """The key stored for ``profile`` in the keyring, or None (also when no keyring works)."""
    if not profile:
        return None
    try:
        import keyring

        value = keyring.get_password(SERVICE, profile)
    except Exception as exc:  # no backend, locked, D-Bus down...
        log.info("keyring unavailable for profile %r: %s", profile, type(exc).__name__)
        return None
    return value or None


def set_key(profile: str, key: str) -> None:
    if not profile:
        raise ValueError("a profile name is needed to store a key")
    try:
        import keyring

        keyring.set_password(SERVICE, profile, key)
    except Exception as exc:
        raise SecretStoreError(
            f"could not store the key in the OS keyring: {type(exc).__name__}"
        ) from None


def delete_key(profile: str) -> bool:
    """Remove the stored key; False when there was none (or no keyring)."""
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        keyring.delete_password(SERVICE, profile)
    except PasswordDeleteError:
        return False
    except Exception as exc:
        raise SecretStoreError(
            f"could not delete the key from the OS keyring: {type(exc).__name__}"
        ) from None
    return True


def resolve_key(
    api_key_env: str, keyring_profile: str = "", explicit: str | None = None
) -> str | None:
    """The key to use: explicit > env var ``api_key_env`` > keyring profile; None if none."""
    if explicit:
        return explicit
    env = os.environ.get(api_key_env, "") if api_key_env else ""
    if env:
        return env
    return get_key(keyring_profile)


def scrub(text: str, key: str | None = None) -> str:
    """``text`` with the key (and anything key-shaped) replaced by ``***``."""
    if key and len(key) >= 4:
        text = text.replace(key, "***")
    return _KEYLIKE.sub(lambda m: m.group(1) + "-***", text)


def scrub_exact(text: str, key: str | None) -> str:
    """``text`` with only the key itself replaced: for completions, where key-shaped words
    (``or-statements``) may be meant."""
    if key and len(key) >= 4 and key != NO_KEY:
        return text.replace(key, "***")
    return text


def clip(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters; cut only after scrubbing, or a cut key escapes ``scrub``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_error(key: str | None, api_key_env: str, keyring_profile: str, base_url: str) -> str:
    """Why no request can be sent with ``key`` ("" when one can), never repeating the key."""
    if key is None:
        where = f"${api_key_env}"
        if keyring_profile:
            where += f" or store a key for profile {keyring_profile!r} in the keyring"
        return f"no API key: set {where} for {base_url}"
    source = f"${api_key_env}" if api_key_env and os.environ.get(api_key_env) else "the keyring"
    bad = next((ch for ch in key if not (ch.isascii() and ch.isprintable()) or ch == " "), None)
    if bad is None:
        return ""
    what = "a space" if bad == " " else f"the character U+{ord(bad):04X}"
    return (
        f"the API key from {source} contains {what}, which an HTTP header cannot carry "
        "(a typographic dash or quote pasted with it?); set it again"
    )
