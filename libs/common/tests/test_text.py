"""Text fields refuse control and invisible characters; JSON bodies that are not UTF-8 JSON are a
declared 422 naming the body."""

from __future__ import annotations

import pytest
from bnpl_common.errors import install_error_handlers
from bnpl_common.text import PlainText, check_plain_text, refused_character, unencodable_path
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "\x1b[31m", "a\rb", "a\nb", "\x7f", "\x85", "\u202e", "\u2066", "\u200b", "\u200e", "\ufeff", "\u2028"],
)
def test_controls_and_format_characters_are_refused(value: str) -> None:
    assert refused_character(value) is not None
    with pytest.raises(ValueError, match="U\\+"):
        check_plain_text(value)


@pytest.mark.parametrize("value", ["\u200d", "\u200c\u200d", " "])
def test_a_value_without_anything_visible_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="visible"):
        check_plain_text(value)


@pytest.mark.parametrize("value", ["", "Ada", "Zoë", "Łódź", "می\u200cخواهم", "Flat 3/B, 1st floor", "€5 & 10%"])
def test_ordinary_text_is_kept_unchanged(value: str) -> None:
    assert check_plain_text(value) == value


def test_unencodable_path_names_the_first_surrogate() -> None:
    assert unencodable_path({"a": ["ok", {"b": "x\ud800"}]}) == ("a", "1", "b")
    assert unencodable_path({"a": "ok", "n": 1, "z": None}) is None
    assert unencodable_path("\udfff") == ()


class Body(BaseModel):
    name: PlainText


def _app() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def things(body: Body) -> dict[str, str]:
        return {"name": body.name}

    return TestClient(app)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": "\xff"}', "body: is not valid UTF-8 JSON"),
        (b'{"name": ', "body: is not valid JSON (Expecting value)"),
    ],
)
def test_a_body_that_is_not_utf8_json_is_a_422_naming_the_body(body: bytes, message: str) -> None:
    response = _app().post("/things", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"error": {"type": "ValidationError", "message": message, "field": "body"}}


def test_a_plain_text_field_names_itself() -> None:
    response = _app().post("/things", json={"name": "a\x1b[2Jb"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"
