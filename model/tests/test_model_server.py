import warnings

import pytest

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from bnpl_model.server import create_app


@pytest.fixture(scope="module")
def client(artifact_dir):
    with TestClient(create_app(artifact_dir)) as c:
        yield c


def test_ping_and_livez(client, scorer):
    r = client.get("/ping")
    assert r.status_code == 200 and r.json()["model_version"] == scorer.model_version
    assert client.get("/livez").status_code == 200


def test_ping_before_load(artifact_dir):
    client = TestClient(create_app(artifact_dir))  # no context manager: lifespan not run
    assert client.get("/ping").status_code == 503


def test_json(client, scorer, good, poor):
    r = client.post("/invocations", json={"instances": [good, poor]})
    assert r.status_code == 200
    assert r.json() == {"predictions": scorer.score([good, poor])}
    r = client.post(
        "/invocations",
        content=b'{"instances": []}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200 and r.json() == {"predictions": []}


def test_csv(client, scorer, good, poor):
    names = scorer.feature_names
    lines = [",".join(str(inst[n]) for n in names) for inst in (good, poor)]
    lines.append(",".join("" if n == "Income" else str(good[n]) for n in names))
    r = client.post("/invocations", content="\n".join(lines) + "\n", headers={"content-type": "text/csv"})
    assert r.status_code == 200
    missing_income = {**good, "Income": None}
    assert r.json()["predictions"] == scorer.score([good, poor, missing_income])


def test_unsupported_media_type(client):
    r = client.post("/invocations", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert r.json()["error"]["type"] == "UnsupportedMediaType"


@pytest.mark.parametrize(
    ("body", "ctype", "etype"),
    [
        (b"{not json", "application/json", "MalformedJSON"),
        (b'[{"Age": 3}]', "application/json", "InvalidShape"),
        (b'{"instances": {"Age": 3}}', "application/json", "InvalidShape"),
        (b'{"instances": [1, 2]}', "application/json", "InvalidInput"),
        (b'{"instances": [{"Income": "lots"}]}', "application/json", "InvalidInput"),
        (b"1,2,3\n", "text/csv", "InvalidInput"),
        (b"", "text/csv", "InvalidInput"),
        (b"\xff\xfe", "application/json", "MalformedRequest"),
    ],
)
def test_bad_requests(client, body, ctype, etype):
    r = client.post("/invocations", content=body, headers={"content-type": ctype})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == etype and err["message"]


def test_invalid_input_names_feature(client, good):
    r = client.post("/invocations", json={"instances": [{**good, "Debt": "abc"}]})
    assert r.status_code == 400 and "Debt" in r.json()["error"]["message"]
