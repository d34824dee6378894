"""Every setting the product reads from its environment is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    sources = [*ROOT.glob("engine/**/*.py"), *ROOT.glob("web/**/*.py")]
    settings = {name for path in sources
                for name in re.findall(r"(?:os\.environ\.get|_number)\(\s*\"([A-Z_]+)\"", path.read_text())}
    assert settings >= {"DATABASE_URL", "SECRET_KEY", "SMTP_HOST"}
    missing = sorted(name for name in settings if f"`{name}`" not in readme)
    assert missing == []
