"""Sending one delivery by its channel. Each sender raises `DeliveryError` when the other side did
not take it; the caller decides about retries."""

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

from .models import ChannelKind, Delivery

TIMEOUT_S = 10


class DeliveryError(Exception):
    pass


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of «timestamp.body», hex: the receiver recomputes it and refuses a mismatch or a
    stale timestamp (docs/dispatch.md)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"not an http(s) address: {url[:80]}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} from {url[:80]}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"{url[:80]}: {error}") from error


def send_email(delivery: Delivery) -> None:
    try:
        send_mail(delivery.subject, delivery.text, None, [delivery.subscription.address])
    except Exception as error:  # SMTP errors come in many classes
        raise DeliveryError(f"e-mail: {error}") from error


def send_webhook(delivery: Delivery) -> None:
    name = delivery.subscription.secret_env or "TSUR_WEBHOOK_SECRET"
    secret = os.environ.get(name, "")
    if not secret:
        raise DeliveryError(f"the signing secret is not set: environment variable {name}")
    body = json.dumps(
        {"id": delivery.pk, "event": delivery.topic, "subject": delivery.subject, **delivery.payload},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    _post(
        delivery.subscription.address,
        body,
        {
            "Content-Type": "application/json; charset=utf-8",
            "X-TSUR-Event": delivery.topic,
            "X-TSUR-Delivery": str(delivery.pk),
            "X-TSUR-Timestamp": timestamp,
            "X-TSUR-Signature": "sha256=" + signature(secret, timestamp, body),
        },
    )


def send_telegram(delivery: Delivery) -> None:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise DeliveryError("TELEGRAM_BOT_TOKEN is not set")
    body = json.dumps(
        {"chat_id": delivery.subscription.address, "text": f"{delivery.subject}\n\n{delivery.text}"[:4000]},
        ensure_ascii=False,
    ).encode()
    _post(
        f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/sendMessage",
        body,
        {"Content-Type": "application/json; charset=utf-8"},
    )


SENDERS = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.TELEGRAM: send_telegram,
}
