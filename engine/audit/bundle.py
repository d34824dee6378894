"""A case's audit bundle: a zip anyone can verify with no server and no database (`python -m engine.audit.bundle
verify FILE [--key PUBLIC_KEY]`). It holds every log entry of the case (its events and the reads of it) with the
canonical header each entry commits to, the content it names, and its inclusion proof in the tree of the latest
signed checkpoint; that checkpoint and the public key; the diagram, forms and lane map of the case's procedure
version; its stage records; and a readable PDF summary."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Any

from .entries import (
    EVENT_WIDTH,
    access_columns,
    access_content,
    access_leaf,
    event_columns,
    event_content,
    event_header,
    event_leaf,
)
from .merkle import leaf_hash, verify_inclusion
from .notes import open_checkpoint

FORMAT = 1


@dataclass
class Checked:
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    # Entries whose content was erased under a retention period: their headers and place in the tree verify,
    # their content is gone.
    erased: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def make(session, challenge, verifier: str, summary_pdf: bytes, records: list[dict[str, Any]]) -> bytes:
    """The bundle of a challenge, as zip bytes, against the latest checkpoint (entries taken into the log after
    it are left out and counted)."""
    from sqlalchemy import func, select, text

    from ..models import ERASED_DATA, LogEntry
    from ..procedures.versions import files_of
    from .log import latest_checkpoint
    from .merkle import Tree

    checkpoint = latest_checkpoint(session)
    size = checkpoint.tree_size if checkpoint else 0
    leaves = list(session.scalars(select(LogEntry.leaf_hash).where(LogEntry.leaf_index < size)
                                  .order_by(LogEntry.leaf_index)))
    tree = Tree(leaves)
    dialect = session.get_bind().dialect.name
    entries = session.execute(text(
        f"SELECT l.leaf_index, l.source, l.prev_hash, {event_columns(dialect)}, {access_columns(dialect)}, "
        "l.content_hash "
        "FROM log_entries l LEFT JOIN events e ON l.source = 'event' AND e.id = l.source_id "
        "LEFT JOIN access_log a ON l.source = 'access' AND a.id = l.source_id "
        "WHERE l.challenge_id = :challenge AND l.leaf_index < :size ORDER BY l.leaf_index"),
        {"challenge": challenge.id, "size": size}).all()
    pending = session.scalar(select(func.count()).select_from(LogEntry).where(
        LogEntry.challenge_id == challenge.id, LogEntry.leaf_index >= size))
    out = []
    for entry in entries:
        index, source, prev = entry[:3]
        event, record = entry[3:3 + EVENT_WIDTH], entry[3 + EVENT_WIDTH:-1]
        if source == "event" and event[0] is not None and event[8] == ERASED_DATA:
            # Erased under a retention period: the header as the log took it, naming the content's recorded hash.
            header = event_header(*event[:8], entry[-1], prev)
            out.append({"leaf_index": index, "header": header.decode(), "erased": True, "content_text": None,
                        "content": None, "proof": [p.hex() for p in tree.inclusion_proof(index, size)]})
            continue
        if source == "event" and event[0] is not None:
            content, header, _ = event_leaf(event, prev)
            stored = event_content(event[8])
        elif source == "access" and record[0] is not None:
            content, header, _ = access_leaf(record)
            stored = access_content(*record[6:10])
        else:
            continue  # its row is gone: the bundle cannot prove what is not there (verification reports it)
        out.append({"leaf_index": index, "header": header.decode(), "content_text": stored.decode(),
                    "content": json.loads(stored) if stored else None,
                    "proof": [p.hex() for p in tree.inclusion_proof(index, size)]})
    version = challenge.procedure_version
    files = files_of(version)
    manifest = {
        "format": FORMAT, "challenge": {"id": challenge.id, "reference": challenge.reference,
                                        "partnership": challenge.partnership.slug},
        "procedure_version": {"procedure": version.procedure, "number": version.number,
                              "content_hash": version.content_hash},
        "public_key": verifier, "checkpoint": checkpoint.note if checkpoint else None, "tree_size": size,
        "entries": out, "not_yet_in_a_checkpoint": pending,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        archive.writestr("records.json", json.dumps(records, indent=1, ensure_ascii=False))
        archive.writestr("procedure/procedure.bpmn", files.bpmn_xml)
        archive.writestr("procedure/procedure.json", json.dumps(
            {"procedure": files.procedure, "title": files.title, "process_id": files.process_id, **files.meta},
            indent=2, ensure_ascii=False))
        archive.writestr("procedure/lanes.json", json.dumps(files.lanes, indent=2, ensure_ascii=False))
        for name, schema in files.forms.items():
            archive.writestr(f"procedure/forms/{name}", json.dumps(schema, indent=2, ensure_ascii=False))
        archive.writestr("summary.pdf", summary_pdf)
        archive.writestr("README.txt", README)
    return buffer.getvalue()


README = """This is the audit bundle of one professional challenge.

bundle.json holds every entry of the tamper-evident log about the challenge (its events, and every time it was
read), each as the canonical header the log committed to, the content that header names by its SHA-256 (as
content_text, the exact bytes hashed, and as content, the same read as JSON), and
the entry's inclusion proof in the Merkle tree (RFC 9162) of the signed checkpoint it carries (C2SP
tlog-checkpoint, Ed25519). procedure/ is the procedure version the challenge ran on; records.json and
summary.pdf are what its stages recorded.

Verify it, with only Professional Challenge installed and no server or database:

    python -m engine.audit.bundle verify THIS.zip --key "<the public key you were given>"

Without --key the public key inside the bundle is used, which proves the bundle is whole but not whose it is.
"""


def check(data: bytes, trusted_key: str | None = None) -> Checked:
    """Verify a bundle: the checkpoint's signature, each entry's content against its header, its inclusion in
    the checkpoint's tree, and the challenge's chain of events."""
    result = Checked()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("bundle.json"))
            procedure = archive.read("procedure/procedure.bpmn")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        result.problems.append(f"not an audit bundle: {exc}")
        return result
    key = trusted_key or manifest.get("public_key")
    try:
        checkpoint = open_checkpoint(manifest.get("checkpoint") or "", key or "")
    except ValueError as exc:
        result.problems.append(f"the checkpoint: {exc}")
        return result
    if checkpoint.size != manifest.get("tree_size"):
        result.problems.append("the checkpoint's size is not the bundle's")
    previous_event: bytes | None = None
    for entry in manifest["entries"]:
        where = f"leaf {entry['leaf_index']}"
        header = entry["header"].encode()
        fields = json.loads(header)
        stored = entry.get("content_text", "")
        if entry.get("erased") is True and stored is None and fields.get("type") == "event":
            result.erased += 1  # its content is gone; its header and its place in the tree are checked below
        elif fields.get("content") != hashlib.sha256((stored or "").encode()).hexdigest():
            result.problems.append(f"{where}: its content is not the content its header names")
        elif (json.loads(stored) if stored else None) != entry.get("content"):
            result.problems.append(f"{where}: its content as read is not its content as hashed")
        leaf = leaf_hash(header)
        proof = [bytes.fromhex(p) for p in entry["proof"]]
        if not verify_inclusion(leaf, entry["leaf_index"], checkpoint.size, proof, checkpoint.root):
            result.problems.append(f"{where}: it is not in the signed tree")
        if fields.get("type") == "event":
            named = bytes.fromhex(fields["prev"]) if fields.get("prev") else None
            if named != previous_event:
                result.problems.append(f"{where}: it does not follow the challenge's previous event")
            previous_event = leaf
        result.entries += 1
    version = manifest.get("procedure_version", {})
    if not version.get("content_hash") or not procedure:
        result.problems.append("the procedure version is missing")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.audit.bundle", description="Verify an audit bundle.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify_parser = commands.add_parser("verify", help="verify a bundle with no server and no database")
    verify_parser.add_argument("bundle")
    verify_parser.add_argument("--key", default=None, help="the public key you trust")
    args = parser.parse_args(argv)
    with open(args.bundle, "rb") as file:
        result = check(file.read(), args.key)
    for problem in result.problems:
        print(f"problem: {problem}")
    print(f"{result.entries} entries: " + ("the bundle verifies" if result.ok else f"{len(result.problems)} problems")
          + (f" ({result.erased} erased under a retention period: their content is gone)" if result.erased else ""))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
