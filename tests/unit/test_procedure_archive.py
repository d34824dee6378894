"""A procedure as a zip of its folder: every seed goes out and comes back with the same content hash, at the top
of the zip or in one folder; anything but that layout is refused with a message."""

from __future__ import annotations

import io
import zipfile

import pytest

from engine.errors import InvalidProcedure
from engine.procedures.archive import MAX_MEMBERS, read_zip, write_zip
from engine.procedures.files import WORKFLOWS, read_folder


@pytest.mark.parametrize("name", ["darlington", "dudley", "tees", "stoke"])
def test_each_seed_goes_out_and_comes_back_the_same(name):
    files = read_folder(WORKFLOWS / name)
    assert read_zip(write_zip(files)).content_hash() == files.content_hash()


def zipped(entries: dict[str, bytes | str], **info) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in entries.items():
            member = zipfile.ZipInfo(name)
            for key, value in info.items():
                setattr(member, key, value)
            archive.writestr(member, body)
    return out.getvalue()


def seed_entries(prefix: str = "") -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(write_zip(read_folder(WORKFLOWS / "darlington")))) as archive:
        return {prefix + n.removeprefix("darlington/"): archive.read(n) for n in archive.namelist()}


def test_the_files_may_sit_at_the_top_of_the_zip():
    assert read_zip(zipped(seed_entries())).procedure == "darlington"


@pytest.mark.parametrize("extra, message", [
    ({"../evil.json": b"{}"}, "outside its folder"),
    ({"/etc/x.json": b"{}"}, "outside its folder"),
    ({"forms/../../x.json": b"{}"}, "outside its folder"),
    ({"run.sh": b"echo"}, "not part of a procedure's folder"),
    ({"forms/deep/x.json": b"{}"}, "not part of a procedure's folder"),
])
def test_other_paths_are_refused(extra, message):
    with pytest.raises(InvalidProcedure, match=message):
        read_zip(zipped({**seed_entries(), **extra}))


def test_links_bombs_crowds_and_non_zips_are_refused():
    with pytest.raises(InvalidProcedure, match="link"):
        read_zip(zipped({**seed_entries(), "forms/x.json": "/etc/passwd"}, external_attr=0o120777 << 16))
    with pytest.raises(InvalidProcedure, match="more than 4 MB"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in seed_entries().items():
                archive.writestr(name, body)
            archive.writestr("forms/bomb.json", b" " * 5_000_000)
        read_zip(out.getvalue())
    with pytest.raises(InvalidProcedure, match=f"more than {MAX_MEMBERS} files"):
        read_zip(zipped({f"forms/f{n}.json": b"{}" for n in range(MAX_MEMBERS + 1)}))
    for data in (b"", b"PK\x03\x04broken", b"<xml/>"):
        with pytest.raises(InvalidProcedure, match="not a zip"):
            read_zip(data)
    with pytest.raises(InvalidProcedure, match="no lanes.json"):
        read_zip(zipped({k: v for k, v in seed_entries().items() if k != "lanes.json"}))
    with pytest.raises(InvalidProcedure, match="not valid JSON"):
        read_zip(zipped({**seed_entries(), "lanes.json": b"{"}))
