from tests.conftest import raise_answers


def test_raise_and_see_task(app, client, login, agency, token):
    police = agency("Durham")
    t = token("csc-practitioner")
    r = client.post("/api/v1/challenges", json={**raise_answers(police.id), "raised_at": "2026-12-18T15:00:00Z"},
                    headers={"Authorization": f"Bearer {t}"})
    assert r.status_code == 201, r.json
    assert r.json["tasks"][0]["due_at"] == "2026-12-21T17:00:00Z"
    login("police-practitioner")
    page = client.get("/tasks")
    assert b"Stage 1: respond" in page.data
    cid = r.json["id"]
    assert client.get(f"/challenges/{cid}").status_code == 200
    tid = r.json["tasks"][0]["id"]
    assert client.get(f"/tasks/{tid}").status_code == 200
    r2 = client.post(f"/tasks/{tid}", data={"rationale": "a", "response": "b"})
    assert r2.status_code == 302
    assert client.get("/notifications").status_code == 200
    client.get("/challenges/new")
