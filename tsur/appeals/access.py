"""The author's private link: `/a/<number>/<key>/` opens an appeal for the one who filed it, with
no account (the portal shows it once after filing; the hotline may read it to the caller).

Only the key's SHA-256 is stored (`Appeal.access_key_hash`), so neither a copy of the database nor
its backups hold a working link. The key has 144 random bits: it is not guessable, and the number
beside it only says which appeal to compare it with.
"""

import hashlib
import hmac
import secrets


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(appeal) -> str:
    """A new key for the appeal (the previous link stops working); the caller saves the appeal."""
    key = secrets.token_urlsafe(18)
    appeal.access_key_hash = _digest(key)
    return key


def opens(appeal, key: str | None) -> bool:
    """Whether `key` is the appeal's private key."""
    if not appeal.access_key_hash or not key or len(key) > 64:
        return False
    return hmac.compare_digest(appeal.access_key_hash, _digest(key))
