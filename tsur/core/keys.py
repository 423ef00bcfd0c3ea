"""Secrets handed to machines (Open311 applications, controllers): shown once, kept only as a hash."""

import hashlib
import secrets


def new_key(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(key: str) -> str:
    """What is stored and looked up: a key long and random enough needs no salt or slow hash."""
    return hashlib.sha256(key.encode()).hexdigest()
