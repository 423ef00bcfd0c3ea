"""Deliveries to services over real HTTP (a local server stands in for the ЕДДС and the bot API):
signed webhooks, the messenger bot, retries with backoff, and giving up."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from tsur.notify import delivery
from tsur.notify.channels import signature
from tsur.notify.models import Delivery, DeliveryState
from tsur.notify.tests.factories import DeliveryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receiver_allowed(settings):
    """The receiver below listens on 127.0.0.1, which webhooks may not reach: the suite allows that
    one address explicitly, as a deployment would allow its own network (ALLOWED_PRIVATE_NETWORKS)."""
    settings.TSUR = {**settings.TSUR, "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"]}


class Receiver:
    """An HTTP server that records what it gets and answers with the status it is told."""

    def __init__(self):
        self.requests, self.status = [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.server.shutdown()


def delivery_to(channel, address, **fields):
    return DeliveryFactory(
        subscription=SubscriptionFactory(name="ЕДДС", channel=channel, address=address, **fields)
    )


def test_a_webhook_is_signed_so_the_receiver_can_trust_it(receiver, monkeypatch):
    monkeypatch.setenv("EDDS_SECRET", "s3cret")
    sent = delivery_to("webhook", f"{receiver.url}/hooks/tsur", secret_env="EDDS_SECRET")

    assert delivery.attempt(sent.pk) == DeliveryState.SENT
    path, headers, body = receiver.requests[0]
    assert path == "/hooks/tsur"
    expected = hmac.new(b"s3cret", headers["X-Tsur-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Tsur-Signature"] == "sha256=" + expected.hexdigest()
    assert headers["X-Tsur-Signature"] != "sha256=" + signature("other", headers["X-Tsur-Timestamp"], body)
    assert json.loads(body)["alarm"] == {"id": 1}
    assert delivery.attempt(sent.pk) is None  # sent once, never again


def test_a_failing_receiver_is_retried_later_then_given_up(receiver, monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    receiver.status = 503
    sent = delivery_to("webhook", receiver.url)

    assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
    sent.refresh_from_db()
    assert sent.attempts == 1 and "503" in sent.last_error
    assert sent.next_attempt_at > timezone.now()
    assert sent.pk not in delivery.due()  # not yet
    assert sent.pk in delivery.due(now=timezone.now() + timedelta(minutes=2))

    receiver.status = 200
    assert delivery.attempt(sent.pk) == DeliveryState.SENT
    assert len(receiver.requests) == 2

    gone = delivery_to("webhook", "http://127.0.0.1:9/nothing-listens")
    for _ in range(delivery.MAX_ATTEMPTS):
        state = delivery.attempt(gone.pk)
    assert state == DeliveryState.FAILED


def test_a_webhook_without_its_secret_is_not_sent_unsigned(receiver, monkeypatch):
    monkeypatch.delenv("TSUR_WEBHOOK_SECRET", raising=False)
    sent = delivery_to("webhook", receiver.url)
    assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
    assert receiver.requests == []
    sent.refresh_from_db()
    assert "TSUR_WEBHOOK_SECRET" in sent.last_error


def test_the_messenger_bot_posts_to_the_chat(receiver, settings):
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL = "123:abc", receiver.url
    sent = delivery_to("telegram", "-100500")
    assert delivery.attempt(sent.pk) == DeliveryState.SENT
    path, _headers, body = receiver.requests[0]
    assert path == "/bot123:abc/sendMessage"
    message = json.loads(body)
    assert message["chat_id"] == "-100500" and "Котельная №7" in message["text"]


def test_the_bot_token_never_lands_in_errors_or_logs(receiver, settings, caplog):
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL = "123456:AAHsecret", receiver.url
    receiver.status = 404
    sent = delivery_to("telegram", "-100500")
    assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
    sent.refresh_from_db()
    assert "AAHsecret" not in sent.last_error and "404" in sent.last_error
    assert "AAHsecret" not in caplog.text


def test_a_redirect_is_refused_not_followed(receiver, monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    inner = Receiver()
    try:

        class Redirect(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.send_response(302)
                self.send_header("Location", f"{inner.url}/internal-admin")
                self.end_headers()

            def log_message(self, *args):
                pass

        outer = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=outer.serve_forever, daemon=True).start()
        sent = delivery_to("webhook", f"http://127.0.0.1:{outer.server_port}/hook")
        assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
        assert inner.requests == []  # nothing reached the address the redirect pointed to
        outer.shutdown()
    finally:
        inner.server.shutdown()


def test_a_broken_address_counts_its_attempts_and_gives_up():
    sent = delivery_to("webhook", "http://example.org:80x/")
    for _ in range(delivery.MAX_ATTEMPTS):
        state = delivery.attempt(sent.pk)
    sent.refresh_from_db()
    assert state == DeliveryState.FAILED and sent.attempts == delivery.MAX_ATTEMPTS


def test_a_delivery_to_an_address_of_its_own_needs_no_subscription(receiver, monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    sent = DeliveryFactory(subscription=None, channel="webhook", address=f"{receiver.url}/direct")

    assert delivery.attempt(sent.pk) == DeliveryState.SENT
    path, headers, body = receiver.requests[0]
    assert path == "/direct"
    assert headers["X-Tsur-Signature"] == "sha256=" + signature("k", headers["X-Tsur-Timestamp"], body)


def test_a_delivery_without_a_recipient_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        Delivery.objects.create(topic="appeal", subject="Обращение", text="", channel="email")


# ------------------------------------------------- webhooks never reach the platform's own network


def test_a_webhook_to_a_name_that_resolves_to_loopback_is_not_sent(receiver, settings, dns, monkeypatch):
    """DNS can change after the subscription was saved: the address is checked as it is connected to."""
    settings.TSUR = {**settings.TSUR, "ALLOWED_PRIVATE_NETWORKS": []}
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    dns["hooks.example.org"] = "127.0.0.1"
    sent = delivery_to("webhook", f"http://hooks.example.org:{receiver.server.server_port}/hook")

    assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
    assert receiver.requests == []
    sent.refresh_from_db()
    assert "внутреннюю сеть (hooks.example.org → 127.0.0.1)" in sent.last_error


def test_a_webhook_to_the_metadata_address_is_not_sent(monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    sent = DeliveryFactory(subscription=None, channel="webhook", address="http://169.254.169.254/latest/")
    assert delivery.attempt(sent.pk) == DeliveryState.RETRYING
    sent.refresh_from_db()
    assert "169.254.169.254" in sent.last_error and "внутреннюю сеть" in sent.last_error


def test_the_allowance_lets_the_local_receiver_through_and_only_it(receiver, settings, monkeypatch):
    monkeypatch.setenv("TSUR_WEBHOOK_SECRET", "k")
    settings.TSUR = {**settings.TSUR, "ALLOWED_PRIVATE_NETWORKS": []}
    refused = delivery_to("webhook", receiver.url)
    assert delivery.attempt(refused.pk) == DeliveryState.RETRYING
    assert receiver.requests == []

    settings.TSUR = {**settings.TSUR, "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"]}
    assert delivery.attempt(refused.pk) == DeliveryState.SENT
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://internal.example.org/hook",
        "ftp://example.org/hook",
    ],
)
def test_a_subscription_to_an_internal_address_is_refused_when_saved(address, settings, dns):
    settings.TSUR = {**settings.TSUR, "ALLOWED_PRIVATE_NETWORKS": []}
    dns["internal.example.org"] = "192.168.1.10"
    subscription = SubscriptionFactory.build(name="ЕДДС", channel="webhook", address=address)
    with pytest.raises(ValidationError) as refused:
        subscription.full_clean()
    assert list(refused.value.message_dict) == ["address"]


def test_a_subscription_to_a_public_address_is_accepted(dns):
    dns["hooks.example.org"] = "93.184.215.14"
    SubscriptionFactory.build(
        name="ЕДДС", channel="webhook", address="https://hooks.example.org/h"
    ).full_clean()
