"""Passwords are hashed with Argon2 (issue 15: the security baseline); older hashes still verify and
are rehashed with Argon2 at the next sign-in."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from tsur.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_new_passwords_are_hashed_with_argon2id():
    user = UserFactory()

    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("pass-Word-123")


def test_an_old_pbkdf2_hash_still_signs_in_and_is_rehashed_with_argon2():
    user = UserFactory(username="old-timer")
    user.password = make_password("pass-Word-123", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    client = Client()

    client.post("/accounts/login/", {"username": "old-timer", "password": "pass-Word-123"})

    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
