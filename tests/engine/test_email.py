"""Notifications leave through the outbox by real SMTP: a local SMTP server receives them; a failed send is
retried with backoff, and nothing is lost or sent twice."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from engine.cases.raising import raise_challenge
from engine.models import Notification
from engine.notifications import MAX_ATTEMPTS, SmtpSettings, deliver_pending
from tests.conftest import raise_answers


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, SmtpSettings("127.0.0.1", controller.port, "challenge@test.invalid", timeout=5)
    controller.stop()


def test_new_task_notifications_arrive_by_smtp_once(session, clock, user, agency, smtp_server):
    inbox, smtp = smtp_server
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    sent, failed = deliver_pending(session, clock, smtp)
    assert (sent, failed) == (1, 0)
    (recipients, message), = inbox.messages
    assert recipients == ["police-practitioner@demo.invalid"]
    assert message["Subject"] == f"{challenge.reference}: new task - Stage 1: respond to the challenge"
    assert "Monday 21 December 2026, 17:00" in message.get_payload()
    assert deliver_pending(session, clock, smtp) == (0, 0)
    assert len(inbox.messages) == 1


def test_a_failed_send_is_retried_with_backoff_and_sent_once_the_server_is_back(session, clock, user, agency,
                                                                                smtp_server):
    inbox, smtp = smtp_server
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    down = SmtpSettings("127.0.0.1", free_port(), timeout=2)
    assert deliver_pending(session, clock, down) == (0, 1)
    row = session.scalar(select(Notification))
    assert (row.email_status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert "cannot connect" in row.last_error

    # Not due again yet: nothing is tried, even with the server back.
    assert deliver_pending(session, clock, smtp) == (0, 0)
    clock.advance(seconds=31)
    assert deliver_pending(session, clock, down) == (0, 1)
    session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(seconds=60)

    clock.advance(seconds=61)
    assert deliver_pending(session, clock, smtp) == (1, 0)
    session.refresh(row)
    assert (row.email_status, row.attempts) == ("sent", 3)
    assert len(inbox.messages) == 1
    assert deliver_pending(session, clock, smtp) == (0, 0)


def test_after_the_last_attempt_a_message_is_kept_as_failed_not_dropped(session, clock, user, agency):
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    down = SmtpSettings("127.0.0.1", free_port(), timeout=2)
    for _ in range(MAX_ATTEMPTS):
        deliver_pending(session, clock, down)
        clock.advance(days=1)
    row = session.scalar(select(Notification))
    assert (row.email_status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert session.scalar(select(func.count(Notification.id))) == 1  # still there, with its last error
    assert row.last_error


# --- over TLS -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, and its file (what SMTP_CA_FILE names)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


class TlsInbox(Inbox):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content), session.ssl is not None))
        return "250 OK"


@pytest.fixture
def tls_server(certificate):
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = TlsInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_mail_goes_over_tls_when_the_server_offers_starttls(session, clock, user, agency, tls_server, certificate):
    inbox, port = tls_server
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    smtp = SmtpSettings("127.0.0.1", port, "challenge@test.invalid", timeout=5, ca_file=str(certificate[0]))
    assert deliver_pending(session, clock, smtp) == (1, 0)
    (recipients, message, over_tls), = inbox.messages
    assert recipients == ["police-practitioner@demo.invalid"] and over_tls


def test_a_server_whose_certificate_cannot_be_verified_gets_nothing(session, clock, user, agency, tls_server):
    inbox, port = tls_server
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    smtp = SmtpSettings("127.0.0.1", port, "challenge@test.invalid", timeout=5)
    assert deliver_pending(session, clock, smtp) == (0, 1)
    assert inbox.messages == []
    row = session.scalar(select(Notification))
    assert row.email_status == "pending" and "certificate" in row.last_error.lower()


def test_when_tls_is_required_a_server_without_starttls_gets_nothing(session, clock, user, agency, smtp_server):
    inbox, smtp = smtp_server
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    smtp.starttls = "required"
    assert deliver_pending(session, clock, smtp) == (0, 1)
    assert inbox.messages == []
    assert "STARTTLS" in session.scalar(select(Notification)).last_error

