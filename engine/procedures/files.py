"""A procedure as files, the layout of workflows/<name>/: procedure.bpmn, procedure.json (its procedure,
title, process_id and the other keys of engine.vocabulary), lanes.json (lane -> role and side) and forms/*.json
(JSON Schema). It is the seed format and the export format; the truth is the published version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InvalidProcedure

WORKFLOWS = Path(__file__).resolve().parent.parent.parent / "workflows"
_NAMED = ("procedure", "title", "process_id")


@dataclass(frozen=True)
class ProcedureFiles:
    procedure: str
    title: str
    process_id: str
    bpmn_xml: str
    forms: dict[str, Any]
    lanes: dict[str, Any]
    # Everything else procedure.json says: its source document, guidance shown to whoever raises a challenge.
    meta: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        canonical = json.dumps(
            {"bpmn": self.bpmn_xml, "forms": self.forms, "lanes": self.lanes, "process_id": self.process_id,
             "meta": self.meta},
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def read_folder(folder: Path | str) -> ProcedureFiles:
    folder = Path(folder)
    try:
        meta = json.loads((folder / "procedure.json").read_text())
        forms = {p.name: json.loads(p.read_text()) for p in sorted((folder / "forms").glob("*.json"))}
        lanes = json.loads((folder / "lanes.json").read_text())
        bpmn_xml = (folder / "procedure.bpmn").read_text()
    except FileNotFoundError as exc:
        raise InvalidProcedure(f"{Path(exc.filename).name} is missing from {folder}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidProcedure(f"a file of {folder} is not valid JSON or UTF-8: {exc}") from None
    if not isinstance(meta, dict) or any(not isinstance(meta.get(key), str) for key in _NAMED):
        raise InvalidProcedure("procedure.json needs procedure, title and process_id")
    return ProcedureFiles(procedure=meta["procedure"], title=meta["title"], process_id=meta["process_id"],
                          bpmn_xml=bpmn_xml, forms=forms, lanes=lanes,
                          meta={k: v for k, v in meta.items() if k not in _NAMED})


def write_folder(files: ProcedureFiles, folder: Path | str) -> Path:
    """Write the procedure in the workflows/ layout (an export): reading the folder back gives the same content
    hash."""
    folder = Path(folder)
    (folder / "forms").mkdir(parents=True, exist_ok=True)
    (folder / "procedure.bpmn").write_text(files.bpmn_xml)
    meta = {"procedure": files.procedure, "title": files.title, "process_id": files.process_id, **files.meta}
    (folder / "procedure.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    (folder / "lanes.json").write_text(json.dumps(files.lanes, indent=2, ensure_ascii=False) + "\n")
    for name, schema in files.forms.items():
        (folder / "forms" / name).write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return folder


@lru_cache(maxsize=1)
def raise_form() -> dict[str, Any]:
    return json.loads((WORKFLOWS / "raise.json").read_text())
