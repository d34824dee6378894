"""A procedure as a zip of the workflows/<name>/ layout (procedure.bpmn, procedure.json, lanes.json, forms/*.json),
for export and import. Reading one refuses, with a message, anything but that layout: other or nested paths,
links, encrypted members, too many members, or more than a bound of uncompressed bytes (a zip bomb)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import PurePosixPath

from ..errors import InvalidProcedure
from .files import ProcedureFiles

MAX_MEMBERS = 200
MAX_UNCOMPRESSED = 4_000_000
_TOP = {"procedure.bpmn", "procedure.json", "lanes.json"}
_NAMED = ("procedure", "title", "process_id")


def write_zip(files: ProcedureFiles) -> bytes:
    """The procedure's folder, under a folder of its name, as a zip (reading it back gives the same content hash)."""
    out = io.BytesIO()
    meta = {"procedure": files.procedure, "title": files.title, "process_id": files.process_id, **files.meta}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        root = files.procedure
        archive.writestr(f"{root}/procedure.bpmn", files.bpmn_xml)
        archive.writestr(f"{root}/procedure.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        archive.writestr(f"{root}/lanes.json", json.dumps(files.lanes, indent=2, ensure_ascii=False) + "\n")
        for name, schema in files.forms.items():
            archive.writestr(f"{root}/forms/{name}", json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return out.getvalue()


def _layout_name(path: str, root: str | None) -> str:
    """The member's place in the layout (procedure.bpmn, forms/x.json...), or `InvalidProcedure`."""
    parts = PurePosixPath(path).parts
    if root is not None and parts[:1] == (root,):
        parts = parts[1:]
    name = "/".join(parts)
    if name in _TOP or (len(parts) == 2 and parts[0] == "forms" and parts[1].endswith(".json")):
        return name
    raise InvalidProcedure(f"the zip holds {path!r}, which is not part of a procedure's folder (procedure.bpmn, "
                           "procedure.json, lanes.json, forms/*.json)")


def read_zip(data: bytes) -> ProcedureFiles:
    """A procedure from a zip of its folder (the files at the top, or in one folder)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidProcedure("the file is not a zip") from None
    if len(members) > MAX_MEMBERS:
        raise InvalidProcedure(f"the zip holds more than {MAX_MEMBERS} files")
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
        raise InvalidProcedure(f"the zip's files come to more than {MAX_UNCOMPRESSED // 1_000_000} MB")
    tops = {PurePosixPath(m.filename).parts[0] for m in members if len(PurePosixPath(m.filename).parts) > 1}
    root = next(iter(tops)) if len(tops) == 1 and not any(m.filename in _TOP for m in members) else None
    found: dict[str, bytes] = {}
    for member in members:
        if member.flag_bits & 0x1:
            raise InvalidProcedure("the zip is encrypted")
        if member.filename.startswith("/") or ".." in PurePosixPath(member.filename).parts or "\\" in member.filename:
            raise InvalidProcedure(f"the zip holds a path outside its folder: {member.filename!r}")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise InvalidProcedure(f"the zip holds a link: {member.filename!r}")
        name = _layout_name(member.filename, root)
        with archive.open(member) as stream:
            content = stream.read(MAX_UNCOMPRESSED + 1)  # the sizes above are the zip's word; this is the truth
        if len(content) > MAX_UNCOMPRESSED:
            raise InvalidProcedure("a file of the zip is too large")
        found[name] = content
    missing = sorted(_TOP - found.keys())
    if missing:
        raise InvalidProcedure(f"the zip has no {', '.join(missing)}")
    try:
        meta = json.loads(found["procedure.json"])
        lanes = json.loads(found["lanes.json"])
        forms = {name.removeprefix("forms/"): json.loads(body) for name, body in sorted(found.items())
                 if name.startswith("forms/")}
        bpmn_xml = found["procedure.bpmn"].decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidProcedure(f"a file of the zip is not valid JSON or UTF-8: {exc}") from None
    if not isinstance(meta, dict) or any(not isinstance(meta.get(key), str) for key in _NAMED):
        raise InvalidProcedure("procedure.json needs procedure, title and process_id")
    if not isinstance(lanes, dict) or not all(isinstance(f, dict) for f in forms.values()):
        raise InvalidProcedure("lanes.json and each form must be a JSON object")
    return ProcedureFiles(procedure=meta["procedure"], title=meta["title"], process_id=meta["process_id"],
                          bpmn_xml=bpmn_xml, forms=forms, lanes=lanes,
                          meta={k: v for k, v in meta.items() if k not in _NAMED})
