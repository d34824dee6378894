"""Passwords: PBKDF2 hashes, and what a new password must be (OWASP ASVS level 2: at least 12 characters, at
most 128, any characters, not one of the common passwords, no other composition rules)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 128

# The cost is stored in each hash, so lowering it (the test suite does, through the environment) weakens only
# the hashes made while it is low.
_ITERATIONS = int(os.environ.get("PC_PASSWORD_ITERATIONS", "200000"))

# zxcvbn's list of the 30,000 most common passwords (from leaked password sets).
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS).hex()
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest}"


# Checked against when the username is unknown, so an unknown name costs what a wrong password costs and the
# response time does not tell which usernames exist.
_NOBODY = hash_password(secrets.token_urlsafe(16))


def check_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash. With no hash (no such user) the same work is done against a
    hash nobody knows the password of."""
    try:
        scheme, iterations, salt, digest = (stored or _NOBODY).split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(errors="replace"), salt.encode(), rounds).hex()
    return hmac.compare_digest(candidate, digest) and stored is not None


def new_password_problem(password: str, username: str = "") -> str | None:
    """Why `password` may not be chosen, or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters (a few words together work well)."
    if len(password) > MAX_LENGTH:
        return f"Choose a password of at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or re.sub(r"[\W\d_]+$", "", lowered) in COMMON_PASSWORDS:
        return "That password is one of the most common passwords; choose one that others would not guess."
    if username and username.lower() in lowered:
        return "Choose a password that does not contain your username."
    return None


def check_new_password(password: str, confirm: str, username: str, field: str = "new_password") -> None:
    """Refuse a new password that is too short or long, common, contains the username, or is not confirmed."""
    problem = new_password_problem(password, username)
    if problem:
        raise Invalid({field: problem}, problem)
    if password != confirm:
        raise Invalid({"confirm_password": "The two new passwords are not the same."},
                      "The two new passwords are not the same.")


def random_password() -> str:
    """A password an administrator hands over, for the user to change at their next login."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(4))
