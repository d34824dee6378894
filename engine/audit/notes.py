"""Signed checkpoints in the text of C2SP's tlog-checkpoint and signed-note specifications: the log's origin, its
size and its root hash, each on its own line, then a blank line and one Ed25519 signature line
("— <name> <base64(key id || signature)>"). The key id is the first four bytes of
SHA-256(name || "\\n" || 0x01 || public key). Keys are written as signed-note key strings:
"PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>" and "<name>+<key id hex>+<base64(0x01 || public key)>"."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("a signing key is PRIVATE+KEY+<name>+<key id>+<base64 key>")
        raw = base64.b64decode(parts[4])
        if raw[:1] != ED25519 or len(raw) != 33:
            raise ValueError("the signing key is not an Ed25519 key")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id.hex() != parts[3]:
            raise ValueError("the signing key's id does not match the key")
        return signer

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public)

    def text(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + seed).decode()}"

    def verifier(self) -> str:
        """The public key, as auditors are given it."""
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    def sign(self, body: str) -> str:
        signature = self.private.sign(body.encode())
        return f"{body}\n{DASH} {self.name} {base64.b64encode(self.key_id + signature).decode()}\n"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: str, verifier: str) -> Checkpoint:
    """The checkpoint a note carries, if it is signed by the key `verifier` names; ValueError saying why not."""
    try:
        name, key_id_hex, key = verifier.strip().split("+", 2)
        raw = base64.b64decode(key)
    except ValueError:
        raise ValueError("the public key is not a <name>+<key id>+<base64 key> string") from None
    if raw[:1] != ED25519 or len(raw) != 33 or _key_id(name, raw[1:]).hex() != key_id_hex:
        raise ValueError("the public key is not a well-formed Ed25519 key")
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise ValueError("the checkpoint has no signature")
    body += "\n"
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    for line in signatures.splitlines():
        prefix = f"{DASH} {name} "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix):])
        if blob[:4].hex() != key_id_hex:
            continue
        try:
            public.verify(blob[4:], body.encode())
        except InvalidSignature:
            raise ValueError("the checkpoint's signature does not verify") from None
        lines = body.splitlines()
        if len(lines) < 3 or not lines[1].isdigit():
            raise ValueError("the checkpoint is not origin, size and root")
        return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2]))
    raise ValueError(f"the checkpoint carries no signature by {name}")
