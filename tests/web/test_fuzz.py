"""A bounded, seeded fuzz of every route of the API and of the page forms (issue 9, item 4): no input gives a 500.

The API's routes are taken from its OpenAPI document and checked against the app's URL map, so a route added to
either and not the other fails here. Each route gets CASES requests made by random.Random from a seed of its
own: path parameters (real rows, another partnership's, huge, negative, not numbers, other digits), query strings,
tokens (valid, none, garbage, revoked, expired) and bodies (random JSON of random shapes, the schema's own field
names with random values, a valid body with one field changed, raw bytes with and without a JSON content type).
Every answer must be below 500, JSON, and carry "error" when it is a refusal. The page forms get random field
values and encodings; they must answer below 500 too. A failure names the requests that caused it."""

from __future__ import annotations

import json
import random
import re
import traceback
import zlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from engine.models import Agency, Challenge, Task
from engine.text import storable
from tests.conftest import raise_answers
from web.openapi import OPENAPI

SEED = 20261218
CASES = 150  # per API route
FORM_CASES = 60  # per page form
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

# Every path parameter is an id, named {id} here as the URL map's rules are read below.
DOCUMENTED = sorted((re.sub(r"\{[^{}]+\}", "{id}", path), method) for path, item in OPENAPI["paths"].items()
                    for method in item)

NASTY_STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\udbffy", "\ud83d\ude00", "\U0001f600", "x" * 10_000,
    "\u202e\u200fabc\u202c", "\u200b", "\ufeff", "%s%s%n{0}{}", "{{7*7}}${7*7}", "'; DROP TABLE challenges; --",
    "../../etc/passwd", "<script>alert(1)</script>", "\r\n\t", "\u0661\u0662", "\u00b2", "\uff11", "NaN", "null",
    "true", "-1", "2026-12-18T15:00:00Z", "2026-02-30", "9999-12-31T23:59:59-23:59", "thresholds", "escalate",
    "CH-1042", "\u00e9\u00e8", "\x7f\x1b[31m", "\\u0000", "\\", '"', "CH-1\n", "//[", "http://[::1", "/\t/[",
    "//evil.example", "/\\evil.example", "javascript:alert(1)",
]
NASTY_NUMBERS = [0, -1, 1, 2, 3, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64 + 1, -2**63, 10**20, 10**4000, 1.5, -0.0,
                 1.0, 2.0, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan")]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
                 "text/plain", None, "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ",
                 "multipart/form-data", "application/json-patch+json", "APPLICATION/JSON", "*/*"]


def _form_fields() -> list[str]:
    names = set()
    for path in sorted(WORKFLOWS.glob("*/forms/*.json")):
        names.update(json.loads(path.read_text())["properties"])
    return sorted(names)


TASK_FIELDS = _form_fields()
RAISE_FIELDS = sorted(OPENAPI["components"]["schemas"]["RaiseChallenge"]["properties"])


# --- the routes -------------------------------------------------------------------------------------------------

def _api_rules(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{id}", rule.rule.removeprefix("/api/v1"))
            routes.update((path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_the_fuzz_covers_every_api_route_and_the_document_names_no_other(app):
    routes = _api_rules(app)
    assert len(routes) >= 9
    missing = routes - set(DOCUMENTED)
    assert not missing, f"API routes missing from web/openapi.py (so not fuzzed): {sorted(missing)}"
    extra = set(DOCUMENTED) - routes
    assert not extra, f"web/openapi.py documents routes the app does not have: {sorted(extra)}"


# --- random values ----------------------------------------------------------------------------------------------

class Fuzz:
    def __init__(self, rng: random.Random, ids: list[int]) -> None:
        self.rng, self.ids = rng, ids

    def string(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.55:
            return rng.choice(NASTY_STRINGS)
        if kind < 0.8:  # random code points, surrogates and controls included
            ranges = [(0, 0x80), (0, 0x800), (0xD800, 0xE000), (0, 0x110000)]
            return "".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randrange(0, 40)))
        if kind < 0.9:
            return rng.choice(NASTY_STRINGS) + rng.choice(NASTY_STRINGS)
        return str(rng.choice(self.ids + NASTY_NUMBERS))

    def number(self):
        return self.rng.choice(self.ids + NASTY_NUMBERS) if self.rng.random() < 0.8 else self.rng.uniform(-1e9, 1e9)

    def scalar(self):
        return self.rng.choice([self.string, self.number, lambda: self.rng.choice([True, False, None])])()

    def value(self, depth: int = 0):
        rng = self.rng
        kind = rng.random()
        if depth >= 4 or kind < 0.6:
            return self.scalar()
        if kind < 0.8:
            return [self.value(depth + 1) for _ in range(rng.randrange(0, 5))]
        return {self.key(): self.value(depth + 1) for _ in range(rng.randrange(0, 5))}

    def key(self) -> str:
        return self.string() if self.rng.random() < 0.4 else self.rng.choice(RAISE_FIELDS + TASK_FIELDS + ["data"])

    def with_fields(self, fields: list[str]) -> dict:
        """The schema's own field names (some), each with a random value of a random type."""
        chosen = self.rng.sample(fields, self.rng.randrange(0, len(fields) + 1))
        return {name: self.value(2) for name in chosen}

    def mutated(self, valid: dict, fields: list[str]) -> dict:
        """A valid body with one thing changed: a value replaced, a field dropped, or one added."""
        body = dict(valid)
        kind = self.rng.random()
        if kind < 0.6 and body:
            body[self.rng.choice(sorted(body))] = self.value(2)
        elif kind < 0.8 and body:
            del body[self.rng.choice(sorted(body))]
        else:
            body[self.rng.choice(fields + [self.string()])] = self.value(2)
        return body

    def raw(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(9)
        if choice == 0:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        if choice == 1:
            text = json.dumps(self.value())
            return text[: rng.randrange(0, len(text) + 1)].encode()
        if choice == 2:
            depth = rng.choice([33, 100, 5000, 50_000])
            return rng.choice([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth, b"[" * depth])
        if choice == 3:
            return b'{"receiving_agency_id": ' + b"9" * rng.choice([4300, 4301, 5000]) + b"}"
        if choice == 4:
            return b'{"summary": "' + bytes(rng.randrange(0x80, 0x100) for _ in range(8)) + b'"}'
        if choice == 5:
            return json.dumps(self.value()).encode(rng.choice(["utf-16", "utf-16-le", "utf-32", "utf-8-sig"]))
        if choice == 6:
            return b'{"data": {"rationale": "x", "response": "y"}, "a": \x00}'
        if choice == 7:
            return rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999999", b"[1e-99999]", b'{"a": 1e400}'])
        return json.dumps(self.value()).encode() + rng.choice([b"", b"garbage", b"\x00", b"}"])

    def path_id(self, real: list[int], others: list[int]) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.35:
            return str(rng.choice(real))
        if kind < 0.5:
            return str(rng.choice(others))
        return rng.choice([
            str(2**31), str(2**31 - 1), str(2**63), str(2**64 + 1), "99999999999999999999", "-1", "0", "00001",
            "9" * 5000, "abc", "1.5", "1e3", "0x10", "%201", "1%20", "%00", "1%00", "%ED%A0%80", "%FF", "..",
            "%2E%2E", "\u0661", "\u00b2", "\uff11", "1;DROP", "1%2F2", "", "+1", str(rng.choice(real)) + "x",
        ])

    def query(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return ""
        pairs = []
        for _ in range(rng.randrange(1, 4)):
            key = quote(self.string().encode("utf-8", "surrogatepass"), safe="") if rng.random() < 0.5 else "q"
            value = rng.choice([quote(self.string().encode("utf-8", "surrogatepass"), safe=""), "%00", "%FF",
                                "%ED%A0%80", "a" * 3000, "1", "%", "%%", "&&", "=="])
            pairs.append(f"{key}={value}")
        return "?" + "&".join(pairs)


def _raised(exc: Exception) -> str:
    """An exception no handler answered (in production, a 500), with where it was raised."""
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return f"raised {exc!r:.200} at {where.filename}:{where.lineno}"


def _describe(method: str, url: str, headers: dict, body, status=None, answer: bytes = b"") -> str:
    auth = headers.get("Authorization", "(no Authorization)")
    shown = repr(body)
    return (f"{method} {url[:200]} Authorization={auth[:40]!r} Content-Type={headers.get('Content-Type')!r} "
            f"body={shown[:300]}{'...' if len(shown) > 300 else ''} -> {status} {answer[:300]!r}")


# --- the world the fuzz runs in ---------------------------------------------------------------------------------

@pytest.fixture
def world(app, client, token, agency, clock):
    """Tokens of demo users (and a revoked and an expired one), challenges in Darlington and in Dudley, one of them
    a step on, so the fuzz has real rows, other people's rows, and tasks open and completed."""
    from engine import tokens
    from engine.models import User
    from web.database import db

    users = ["csc-practitioner", "police-practitioner", "health-practitioner", "dsp-business-unit",
             "dudley-csc-practitioner", "police-manager"]
    good = {name: token(name) for name in users}
    with app.app_context():
        csc = db.session.scalar(select(User).where(User.username == "csc-practitioner"))
        row, revoked = tokens.create_token(db.session, clock, csc, "revoked", 30)
        tokens.revoke_token(db.session, clock, row.id, csc)
        clock.set(clock.now() - timedelta(days=8))
        _, expired = tokens.create_token(db.session, clock, csc, "expired", 7)
        clock.set(clock.now() + timedelta(days=8))

    def raise_(who: str, receiving: str) -> dict:
        r = client.post("/api/v1/challenges", json=raise_answers(agency(receiving).id),
                        headers={"Authorization": f"Bearer {good[who]}"})
        assert r.status_code == 201, r.json
        return r.json

    darlington = [raise_("csc-practitioner", "Durham"), raise_("csc-practitioner", "Durham")]
    respond = {"rationale": "The threshold was not met.", "response": "We will review it."}
    first_task = darlington[0]["tasks"][0]["id"]
    r = client.post(f"/api/v1/tasks/{first_task}/complete", json={"data": respond},
                    headers={"Authorization": f"Bearer {good['police-practitioner']}"})
    assert r.status_code == 200, r.json
    dudley = raise_("dudley-csc-practitioner", "West Midlands")
    with app.app_context():
        agencies = list(db.session.scalars(select(Agency.id)))
        police_id = db.session.scalar(select(Agency.id).where(Agency.name == "Durham Constabulary"))
    return {"tokens": good, "revoked": revoked, "expired": expired, "agencies": agencies, "police": police_id,
            "darlington": [c["id"] for c in darlington], "dudley": [dudley["id"]], "respond": respond,
            "dudley_tasks": [t["id"] for t in dudley["tasks"]]}


def _tasks(app) -> dict[int, dict]:
    """Every task and the schema of its form."""
    from web.database import db

    with app.app_context():
        rows = db.session.scalars(select(Task)).all()
        return {t.id: t.challenge.procedure_version.forms[t.form] for t in rows}


def _valid_answers(rng: random.Random, schema: dict, agencies: list[int]) -> dict:
    """Answers that satisfy a form's schema (or nearly: agency choices are any agency)."""
    answers = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in schema.get("required", []) and rng.random() < 0.5:
            continue
        if "enum" in prop:
            answers[name] = rng.choice(prop["enum"])
        elif prop.get("type") == "boolean":
            answers[name] = rng.random() < 0.5
        elif prop.get("type") == "integer":
            answers[name] = rng.choice(agencies)
        elif prop.get("format") == "date":
            answers[name] = "2026-12-17"
        else:
            answers[name] = "Written by the fuzz."
    return answers


# --- the API ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,method", DOCUMENTED, ids=[f"{m.upper()} {p}" for p, m in DOCUMENTED])
def test_no_request_to_an_api_route_is_a_500(app, client, world, path, method):
    rng = random.Random(SEED + zlib.crc32(f"{method} {path}".encode()))
    tasks = _tasks(app)
    challenge_ids, task_ids = world["darlington"] + world["dudley"], sorted(tasks)
    fuzz = Fuzz(rng, world["agencies"])
    failures: list[str] = []
    for case in range(CASES):
        if case and case % 30 == 0:
            tasks = _tasks(app)
            task_ids = sorted(tasks)
        real = task_ids if "/tasks/" in path else challenge_ids
        others = world["dudley_tasks"] if "/tasks/" in path else world["dudley"]
        url = "/api/v1" + path.replace("{id}", fuzz.path_id(real, others)) + fuzz.query()

        headers: dict[str, str] = {}
        auth = rng.random()
        if auth < 0.6:
            who = rng.choice(sorted(world["tokens"]))
            headers["Authorization"] = f"Bearer {world['tokens'][who]}"
        elif auth < 0.7:
            headers["Authorization"] = rng.choice([f"Bearer {world['revoked']}", f"Bearer {world['expired']}"])
        elif auth < 0.9:
            headers["Authorization"] = rng.choice([
                "Bearer pc_garbage", "Bearer", "Bearer ", "bearer  ", "Basic Y3NjOmRlbW8=", "Token abc",
                "Bearer " + "x" * 5000, "Bearer \u00ff\u00fe", f"Bearer {world['tokens']['csc-practitioner']}x",
                f"Bearer {world['tokens']['csc-practitioner']} {world['tokens']['csc-practitioner']}", "\u00e9",
            ])
        if rng.random() < 0.2:
            headers["Accept"] = rng.choice(["text/html", "*/*", "application/xml", "\u00e9"])

        body: object = None
        data: bytes | None = None
        if method == "post" or rng.random() < 0.1:
            content_type = "application/json" if rng.random() < 0.7 else rng.choice(CONTENT_TYPES)
            shape = rng.random()
            if path == "/challenges" and method == "post":
                valid = {**raise_answers(world["police"]), "raised_at": "2026-12-18T15:00:00Z"}
                fields = RAISE_FIELDS
            else:
                task = rng.choice(task_ids)
                valid = {"data": _valid_answers(rng, tasks[task], world["agencies"])}
                fields = TASK_FIELDS
            if shape < 0.25:
                body = fuzz.value()
            elif shape < 0.45:
                body = fuzz.with_fields(fields)
                if fields is TASK_FIELDS and rng.random() < 0.5:
                    body = {"data": body}
            elif shape < 0.75:
                if fields is TASK_FIELDS and rng.random() < 0.5:
                    body = {"data": fuzz.mutated(valid["data"], fields)}
                else:
                    body = fuzz.mutated(valid if fields is RAISE_FIELDS else valid["data"], fields)
            elif shape < 0.8:
                body = valid
            else:
                data = fuzz.raw()
            if data is None:
                data = json.dumps(body).encode()  # NaN and Infinity written as JavaScript does; surrogates as \u
            else:
                body = data
            if content_type is not None:
                headers["Content-Type"] = content_type

        request = (method.upper(), url, headers, body)
        try:
            r = client.open(url, method=method.upper(), headers=headers, data=data)
        except Exception as exc:  # an error no handler answered: in production, a 500 page
            failures.append(_describe(*request, status=_raised(exc)))
            continue
        problem = None
        answer = r.get_json(silent=True)
        if r.status_code >= 500:
            problem = "a 5xx"
        elif r.content_type != "application/json":
            problem = "not JSON"
        elif r.status_code >= 400 and not (isinstance(answer, dict) and isinstance(answer.get("error"), str)):
            problem = "a refusal without an error message"
        elif answer is None:
            problem = "a body that is not JSON"
        if problem:
            failures.append(f"{problem}: " + _describe(*request, status=r.status_code, answer=r.get_data()))
        if len(failures) >= 5:
            break
    assert not failures, "\n".join(failures)
    _nothing_unstorable_was_kept(app)


def _nothing_unstorable_was_kept(app) -> None:
    from web.database import db

    with app.app_context():
        session = db.session
        texts = [*session.scalars(select(Challenge.summary)), *session.scalars(select(Challenge.subject_reference)),
                 *(json.dumps(d, ensure_ascii=False) for d in session.scalars(select(Task.data)) if d)]
    kept = [t[:80] for t in texts if not storable(t)]
    assert kept == [], f"text the database should never have been given: {kept}"


# --- the page forms ---------------------------------------------------------------------------------------------

PAGE_FORMS = {
    "/login": ["username", "password"],
    "/challenges/new": RAISE_FIELDS,
    "/tasks/{task}": ["rationale", "response", "proposed_plan"],
    "/account/password": ["current_password", "new_password", "confirm_password"],
    "/account/tokens": ["name", "days"],
}


def _encode(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("form", sorted(PAGE_FORMS))
def test_no_page_form_answers_a_500(app, world, form):
    rng = random.Random(SEED + zlib.crc32(form.encode()))
    fuzz = Fuzz(rng, world["agencies"])
    fields = PAGE_FORMS[form]
    # The respond task of the second Darlington challenge is still open; police-practitioner may complete it.
    respond_task = max(t for t, schema in _tasks(app).items() if set(schema.get("required", [])) == {"rationale",
                                                                                                      "response"})
    path = form.replace("{task}", str(respond_task))
    who = "police-practitioner" if form.startswith("/tasks") else "csc-practitioner"
    client = app.test_client()
    if form != "/login":
        assert client.post("/login", data={"username": who, "password": "demo-password"}).status_code == 302
    valid = {"/login": {"username": who, "password": "demo-password"},
             "/challenges/new": {k: str(v).lower() if isinstance(v, bool) else str(v)
                                 for k, v in raise_answers(world["police"]).items()},
             "/tasks/{task}": world["respond"],
             "/account/password": {"current_password": "demo-password", "new_password": "x", "confirm_password": "y"},
             "/account/tokens": {"name": "fuzz", "days": "30"}}[form]
    failures: list[str] = []
    for _ in range(FORM_CASES):
        values = dict(valid) if rng.random() < 0.6 else {}
        if not values or rng.random() < 0.7:  # else the valid form, as it is (with a random query string)
            for name in rng.sample(fields, rng.randrange(1, len(fields) + 1)):
                values[name] = rng.choice([fuzz.string(), str(fuzz.number()), "\u00b2", "\u0661\u0662", "1e3",
                                           " 12 ", rng.choice(NASTY_STRINGS) * rng.randrange(1, 50)])
        if rng.random() < 0.2:
            values[fuzz.string()] = fuzz.string()
        encoding = rng.choice(["urlencoded", "multipart", "json", "none"])
        headers = {}
        if encoding == "urlencoded":
            data = "&".join(f"{quote(_encode(k), safe='')}={quote(_encode(v), safe='')}" for k, v in values.items())
            data = data.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif encoding == "multipart":
            data = b"".join(b'--XyZ\r\nContent-Disposition: form-data; name="' + _encode(k).replace(b'"', b"")
                            + b'"\r\n\r\n' + _encode(v) + b"\r\n" for k, v in values.items()) + b"--XyZ--\r\n"
            headers["Content-Type"] = "multipart/form-data; boundary=XyZ"
        elif encoding == "json":
            data = json.dumps(values).encode()
            headers["Content-Type"] = "application/json"
        else:
            data = fuzz.raw()
        query = fuzz.query() if rng.random() < 0.3 else ""
        if form == "/login" and rng.random() < 0.5:
            query = "?next=" + quote(_encode(fuzz.string()), safe=rng.choice(["", "/", "/:[]"]))
        try:
            r = client.post(path + query, data=data, headers=headers)
            if form == "/login" and r.status_code == 302:
                client.post("/logout")
        except Exception as exc:
            failures.append(_describe("POST", path + query, headers, values, status=_raised(exc)))
            continue
        if r.status_code >= 500:
            failures.append(_describe("POST", path + query, headers, values, r.status_code, r.get_data()))
        if len(failures) >= 5:
            break
    assert not failures, "\n".join(failures)
