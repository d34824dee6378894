"""The identity provider's client secret at rest: sealed (Fernet, from `cryptography`) with a key derived from the
service's own SECRET_KEY, so a copy of the database alone does not give it away. Changing SECRET_KEY makes a sealed
secret unreadable; the administrator then enters it again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import Conflict


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"professional-challenge identity provider secret").derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    @staticmethod
    def is_sealed(value: str) -> bool:
        """Whether a stored value is a sealed one (a Fernet token: version byte 0x80, so it begins "gAAAAA"), as
        against one kept as given before secrets were sealed."""
        return value.startswith("gAAAAA")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise Conflict("The identity provider's client secret cannot be read (the service's secret key has "
                           "changed since it was saved): an administrator enters it again.") from None
