"""A real OpenID Connect provider for the tests: npm's oidc-provider (pinned in package.json) run by node on
127.0.0.1, with one confidential client for our app and accounts whose claims the test gives."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    accounts_file: Path

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        self.accounts_file.write_text(json.dumps(accounts))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def identity_provider(tmp_path: Path, redirect_uris: list[str], accounts: dict[str, dict],
                      host: str = "127.0.0.1"):
    """The provider, listening until the block ends. `host` is the name its issuer says it is at (another name
    for the same server makes a provider of a different issuer)."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.fail("node and npm's oidc-provider are needed: `make install` installs it (npm ci)")
    port = _free_port()
    accounts_file = tmp_path / f"accounts-{port}.json"
    provider = Provider(f"http://{host}:{port}", "professional-challenge", "test-client-secret", accounts_file)
    provider.set_accounts(accounts)
    env = {"PATH": os.environ.get("PATH", ""), "PC_OIDC_PORT": str(port), "PC_OIDC_ISSUER": provider.issuer,
           "PC_OIDC_CLIENT_ID": provider.client_id, "PC_OIDC_CLIENT_SECRET": provider.client_secret,
           "PC_OIDC_REDIRECT_URIS": " ".join(redirect_uris), "PC_OIDC_ACCOUNTS": str(accounts_file),
           "NODE_ENV": "development"}
    log = tmp_path / f"provider-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen([node, str(HERE / "provider.mjs")], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        # Waiting for a process to start listening, not for a deadline: it says "ready" when it does.
        started = time.monotonic()
        while "ready " not in log.read_text():
            if process.poll() is not None or time.monotonic() - started > 30:
                pytest.fail("the OpenID provider did not start:\n" + log.read_text())
            time.sleep(0.05)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)
