"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json; a test checks it names every route)."""

from __future__ import annotations

from engine.cases.attachments import KINDS
from engine.procedures.files import raise_form
from engine.vocabulary import TASK_STATUSES


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, ref: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


UNAUTHORIZED = _error("No valid bearer token.")
NOT_FOUND = _error("No such challenge or task, or not one the caller may see.")
FORBIDDEN = _error("The task belongs to another role or agency.")
CONFLICT = _error("The task was already completed, or is claimed by someone else, or the case moved on.")
INVALID = _error("The answers do not satisfy the form; `errors` has one message per field.")
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _raise_schema() -> dict:
    schema = {k: v for k, v in raise_form().items() if k != "title"}
    schema["properties"] = dict(schema["properties"])
    schema["properties"]["raised_at"] = {
        "type": "string", "format": "date-time",
        "description": "When the challenge was raised (defaults to now; at most a year either side of now). "
                       "Deadlines count from it.",
    }
    return schema


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Professional Challenge API",
        "version": "1",
        "description": "Raise professional challenges, list and complete your tasks, read a challenge's events. "
                       "Authenticate with `Authorization: Bearer <token>` (create one with "
                       "`flask --app web create-token USERNAME`).",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/challenges": {
            "post": {
                "summary": "Raise a challenge",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/RaiseChallenge"}}}},
                "responses": {"201": _ok("The challenge, at stage 1.", "Challenge"), "401": UNAUTHORIZED,
                              "403": _error("The caller holds no role in an agency."), "422": INVALID},
            },
            "get": {
                "summary": "Challenges the caller can see",
                "responses": {"200": {"description": "Challenges", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"challenges": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Challenge"}}}}}}},
                    "401": UNAUTHORIZED},
            },
        },
        "/challenges/{id}": {
            "get": {"summary": "Read a challenge", "parameters": [ID],
                    "responses": {"200": _ok("The challenge", "Challenge"), "401": UNAUTHORIZED, "404": NOT_FOUND}},
        },
        "/challenges/{id}/events": {
            "get": {"summary": "A challenge's events, oldest first", "parameters": [ID],
                    "responses": {"200": {"description": "Events", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"events": {
                            "type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}}}},
                        "401": UNAUTHORIZED, "404": NOT_FOUND}},
        },
        "/challenges/{id}/notes": {
            "post": {"summary": "Add a note to a challenge I take part in (kept in its history; the referrer and "
                                "whoever holds its open tasks are told)", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["note"], "properties": {
                             "note": {"type": "string", "maxLength": 5000}}}}}},
                     "responses": {"201": {"description": "The note was added"}, "401": UNAUTHORIZED,
                                   "403": FORBIDDEN, "404": NOT_FOUND, "422": INVALID}},
        },
        "/challenges/{id}/withdraw": {
            "post": {"summary": "As its referrer, withdraw an open challenge with a reason: it closes with the outcome "
                                "`withdrawn`, its open tasks are closed (status `withdrawn`), its deadlines stopped, "
                                "and everyone taking part is told", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["reason"], "properties": {
                             "reason": {"type": "string", "maxLength": 2000}}}}}},
                     "responses": {"200": _ok("The challenge, closed and withdrawn", "Challenge"),
                                   "401": UNAUTHORIZED,
                                   "403": _error("Only the challenge's referrer can withdraw it."),
                                   "404": NOT_FOUND, "409": _error("The challenge is closed (or withdrawn) already."),
                                   "422": INVALID}},
        },
        "/challenges/{id}/attachments": {
            "post": {"summary": "Attach a file to an open challenge I can see (PDF, .docx, .odt, .txt, .eml, PNG or "
                                "JPEG, checked by its content; at most 5 MB unless the service says otherwise); "
                                "the referrer and whoever holds its open tasks are told", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["file"], "properties": {
                             "file": {"type": "string", "format": "binary",
                                      "description": "The file, with its name (its ending must match its "
                                                     "content)"}}}}}},
                     "responses": {"201": _ok("The attachment", "Attachment"), "401": UNAUTHORIZED,
                                   "403": _error("Auditors change nothing."), "404": NOT_FOUND,
                                   "409": _error("The challenge is closed."),
                                   "413": _error("The file is larger than the service accepts."),
                                   "422": _error("Empty, too large, or not one of the kinds accepted (its content "
                                                 "is checked, not only its name); `errors.file` says which.")}},
            "get": {"summary": "A challenge's attachments, oldest first (without their content)", "parameters": [ID],
                    "responses": {"200": {"description": "Attachments", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"attachments": {
                            "type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}}}}}},
                        "401": UNAUTHORIZED, "404": NOT_FOUND}},
        },
        "/challenges/{id}/attachments/{attachment_id}": {
            "get": {"summary": "Download an attachment (as an attachment, never shown inline; each download is in "
                               "the access log)",
                    "parameters": [ID, {"name": "attachment_id", "in": "path", "required": True,
                                        "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "The file, served as the media type its content was found "
                                                         "to be, with Content-Disposition: attachment",
                                          "content": {"application/octet-stream": {"schema": {
                                              "type": "string", "format": "binary"}}}},
                                  "401": UNAUTHORIZED,
                                  "404": _error("No such attachment of a challenge the caller may see, or its "
                                                "content was erased under the retention period.")}},
        },
        "/agencies": {
            "get": {"summary": "The agencies I raise challenges from, and the agencies of their partnerships I can "
                               "raise a challenge against (with the ids `receiving_agency_id` takes; not my own)",
                    "responses": {"200": {"description": "Agencies", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "raising_agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"}},
                            "receiving_agencies": {"type": "array",
                                                   "items": {"$ref": "#/components/schemas/Agency"}}}}}}},
                        "401": UNAUTHORIZED}},
        },
        "/tasks": {
            "get": {"summary": "My tasks: open tasks I can claim or have claimed, soonest first (or highest risk "
                               "first), 100 a page, as lean lines; each line's `url` reads the task with its form",
                    "parameters": [
                        {"name": name, "in": "query", "required": False, "schema": schema, "description": about}
                        for name, schema, about in (
                            ("procedure", {"type": "string"}, "a procedure's name (darlington, tees, ...)"),
                            ("stage", {"type": "integer"}, "only tasks of this stage"),
                            ("overdue", {"type": "string", "enum": ["1"]}, "only tasks past their deadline"),
                            ("risk", {"type": "string", "enum": ["any", "significant", "cp_or_lac"]},
                             "only cases at this risk"),
                            ("claimed", {"type": "string", "enum": ["mine", "unclaimed"]}, "claimed by me, or not"),
                            ("side", {"type": "string", "enum": ["raising", "receiving"]}, "my agency's side"),
                            ("sort", {"type": "string", "enum": ["due", "risk"]}, "soonest deadline or highest risk"),
                            ("page", {"type": "integer", "minimum": 1}, "the page (see `next`)"))],
                    "responses": {"200": {"description": "Tasks", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/TaskLine"}},
                            "next": {"type": "string", "description": "the next page, when there is one"}}}}}},
                        "401": UNAUTHORIZED}},
        },
        "/tasks/{id}": {
            "get": {"summary": "Read a task with its form", "parameters": [ID],
                    "responses": {"200": _ok("The task", "Task"), "401": UNAUTHORIZED, "404": NOT_FOUND}},
        },
        "/tasks/{id}/claim": {
            "post": {"summary": "Claim a task", "parameters": [ID],
                     "responses": {"200": _ok("The claimed task", "Task"), "401": UNAUTHORIZED,
                                   "403": FORBIDDEN, "404": NOT_FOUND, "409": CONFLICT}},
        },
        "/tasks/{id}/release": {
            "post": {"summary": "Give up my claim of a task: it goes back to everyone holding its lane's role",
                     "parameters": [ID],
                     "responses": {"200": _ok("The task, unclaimed", "Task"), "401": UNAUTHORIZED,
                                   "403": FORBIDDEN, "404": NOT_FOUND, "409": CONFLICT}},
        },
        "/tasks/{id}/reassign": {
            "post": {"summary": "As a manager of the task's agency (the business unit, for the partnership's own "
                                "lanes), give an open task to another holder of its role, with a reason; both are "
                                "told", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["to", "reason"], "properties": {
                             "to": {"type": "string", "description": "The username of the new holder"},
                             "reason": {"type": "string", "maxLength": 2000}}}}}},
                     "responses": {"200": _ok("The task, now the new holder's", "Task"), "401": UNAUTHORIZED,
                                   "403": FORBIDDEN, "404": NOT_FOUND, "409": CONFLICT, "422": INVALID}},
        },
        "/tasks/{id}/complete": {
            "post": {"summary": "Complete a task with the answers to its form", "parameters": [ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "properties": {"data": {
                             "type": "object", "description": "Answers, as the task's `form` schema asks."}},
                         "required": ["data"]}}}},
                     "responses": {"200": _ok("The completed task", "Task"), "401": UNAUTHORIZED,
                                   "403": FORBIDDEN, "404": NOT_FOUND, "409": CONFLICT, "422": INVALID}},
        },
        "/openapi.json": {
            "get": {"summary": "This document", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}}},
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Agency": {"type": "object", "required": ["id", "name", "kind", "partnership"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
                "partnership": {"type": "string", "description": "the partnership's slug"}}},
            "Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}}}},
            "RaiseChallenge": _raise_schema(),
            "Challenge": {"type": "object", "properties": {
                "id": {"type": "integer"}, "reference": {"type": "string"}, "partnership": {"type": "string"},
                "procedure_version": {"type": "object"}, "referrer": {"type": "string"},
                "raising_agency": {"type": "object"}, "receiving_agency": {"type": "object"},
                "subject_reference": {"type": "string"}, "area": {"type": "string"}, "summary": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "closed"]},
                "outcome": {"type": ["string", "null"]}, "current_stage": {"type": "integer"},
                "raised_at": {"type": "string", "format": "date-time"},
                "closed_at": {"type": ["string", "null"], "format": "date-time"},
                "next_timer_due": {"type": ["string", "null"], "format": "date-time"},
                "challenged": {"type": ["object", "null"], "description": "who was challenged, as the referrer "
                               "named them (null for a challenge raised before the form asked)", "properties": {
                                   "role": {"type": "string"}, "name": {"type": ["string", "null"]},
                                   "team": {"type": ["string", "null"]}, "contact": {"type": ["string", "null"]}}},
                "concern_first_raised": {"type": ["string", "null"], "format": "date"},
                "deadlines_from": {"type": "string", "format": "date", "description": "the day the deadlines "
                                   "count from: the concern first raised where the procedure says so, else the "
                                   "day the challenge was raised"},
                "tasks": {"type": "array", "items": {"type": "object"}}}},
            "Task": {"type": "object", "properties": {
                "id": {"type": "integer"}, "challenge_id": {"type": "integer"},
                "challenge_reference": {"type": "string"}, "title": {"type": "string"},
                "stage": {"type": "integer"}, "lane": {"type": "string"}, "role": {"type": "string"},
                "side": {"type": "string", "enum": ["raising", "receiving", "partnership"]},
                "agency": {"type": "string"},
                "status": {"type": "string", "enum": [entry.name for entry in TASK_STATUSES]},
                "due_at": {"type": ["string", "null"], "format": "date-time"},
                "claimed_by": {"type": ["string", "null"]}, "completed_by": {"type": ["string", "null"]},
                "completed_at": {"type": ["string", "null"], "format": "date-time"},
                "form": {"type": "object", "description": "The JSON Schema of the task's form"},
                "data": {"type": ["object", "null"]}}},
            "TaskLine": {"type": "object", "properties": {
                "id": {"type": "integer"}, "url": {"type": "string", "description": "the task, with its form"},
                "challenge_id": {"type": "integer"}, "challenge_reference": {"type": "string"},
                "subject_reference": {"type": "string"}, "title": {"type": "string"}, "stage": {"type": "integer"},
                "lane": {"type": "string"}, "role": {"type": "string"},
                "side": {"type": "string", "enum": ["raising", "receiving", "partnership"]},
                "agency": {"type": "string"}, "raising_agency": {"type": "string"},
                "receiving_agency": {"type": "string"}, "significant_risk": {"type": "boolean"},
                "cp_or_lac": {"type": "string", "enum": ["neither", "child_protection_plan", "looked_after"]},
                "status": {"type": "string", "enum": ["open"]},
                "due_at": {"type": ["string", "null"], "format": "date-time"},
                "claimed_by": {"type": ["string", "null"]}}},
            "Attachment": {"type": "object", "properties": {
                "id": {"type": "integer"}, "file_name": {"type": "string", "description": "made safe"},
                "kind": {"type": "string", "enum": list(KINDS)}, "media_type": {"type": "string"},
                "size": {"type": "integer", "description": "bytes"}, "sha256": {"type": "string"},
                "stage": {"type": "integer", "description": "the stage it was added at"},
                "added_by": {"type": "string"}, "added_at": {"type": "string", "format": "date-time"},
                "erased": {"type": "boolean", "description": "its content erased under the retention period"},
                "url": {"type": ["string", "null"], "description": "where to download it"}}},
            "Event": {"type": "object", "properties": {
                "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                "kind": {"type": "string"}, "actor": {"type": ["string", "null"]},
                "task_id": {"type": ["integer", "null"]}, "data": {"type": "object"}}},
        },
    },
}
