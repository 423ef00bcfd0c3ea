"""Sending one delivery by its channel. Each sender raises `DeliveryError` when the other side did
not take it; the caller decides about retries."""

import hashlib
import hmac
import http.client
import json
import os
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail

from tsur.core import outbound

from .choices import ChannelKind
from .models import Delivery

TIMEOUT_S = 10


class DeliveryError(Exception):
    pass


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of «timestamp.body», hex: the receiver recomputes it and refuses a mismatch or a
    stale timestamp (docs/dispatch.md)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver answering with a redirect is refused: following it would carry the signed request
    (or a GET with its headers) to wherever the redirect points, internal addresses included."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# A webhook's address is whatever a subscription (or a direct delivery) names: it is reached only on
# the public internet, checked again as each connection is made (tsur.core.outbound). The bot API's
# address comes from the platform's own environment (TELEGRAM_API_URL, possibly a local Bot API
# server), as trusted as DATABASE_URL, and is not held to that rule.
_webhook_opener = outbound.opener(_NoRedirects)
_opener = urllib.request.build_opener(_NoRedirects)


def _post(
    url: str, body: bytes, headers: dict[str, str], label: str | None = None, *, opener=_opener
) -> None:
    """POST; `label` names the receiver in errors instead of the URL (which may hold a secret)."""
    name = label or url[:80]
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"not an http(s) address: {name}")
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked
        with opener.open(request, timeout=TIMEOUT_S) as response:
            response.read(1024)
    except outbound.BlockedAddress as refusal:
        raise DeliveryError(f"{name}: {refusal.message}") from None
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} from {name}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        detail = error.__class__.__name__ if label else str(error)
        raise DeliveryError(f"{name}: {detail}") from None


def send_email(delivery: Delivery) -> None:
    try:
        send_mail(delivery.subject, delivery.text, None, [delivery.target()[1]])
    except Exception as error:  # SMTP errors come in many classes
        raise DeliveryError(f"e-mail: {error}") from error


def send_webhook(delivery: Delivery) -> None:
    name = (delivery.subscription.secret_env if delivery.subscription else "") or "TSUR_WEBHOOK_SECRET"
    secret = os.environ.get(name, "")
    if not secret:
        raise DeliveryError(f"the signing secret is not set: environment variable {name}")
    body = json.dumps(
        {"id": delivery.pk, "event": delivery.topic, "subject": delivery.subject, **delivery.payload},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    _post(
        delivery.target()[1],
        body,
        {
            "Content-Type": "application/json; charset=utf-8",
            "X-TSUR-Event": delivery.topic,
            "X-TSUR-Delivery": str(delivery.pk),
            "X-TSUR-Timestamp": timestamp,
            "X-TSUR-Signature": "sha256=" + signature(secret, timestamp, body),
        },
        opener=_webhook_opener,
    )


def send_telegram(delivery: Delivery) -> None:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise DeliveryError("TELEGRAM_BOT_TOKEN is not set")
    body = json.dumps(
        {"chat_id": delivery.target()[1], "text": f"{delivery.subject}\n\n{delivery.text}"[:4000]},
        ensure_ascii=False,
    ).encode()
    _post(
        f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/sendMessage",
        body,
        {"Content-Type": "application/json; charset=utf-8"},
        label="Telegram Bot API",  # the URL holds the bot's token
    )


SENDERS = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.TELEGRAM: send_telegram,
}
