"""Request and response bodies."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.core.text import Tag, Text, line

NAME_MAX_LENGTH = 100
# A list's cursor: an id, or a name of up to 4 UTF-8 bytes a character in base64 and a mark.
CURSOR_MAX_LENGTH = 1 + (4 * NAME_MAX_LENGTH * 4 + 2) // 3
Name = Annotated[
    line(max_length=NAME_MAX_LENGTH, strip=True),
    Field(
        description="Trimmed and NFC-normalised, then unique; one line without control or "
        "invisible (format) characters."
    ),
]
# What the Decimal constraints accept, spelled out for clients and the fuzzer: above zero, at
# most 10 digits before the point and 2 after.
PRICE_JSON_SCHEMA = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
        {"type": "string", "pattern": r"^(?!0*\.?0*$)[0-9]{1,10}(\.[0-9]{1,2})?$"},
    ],
    "description": 'Above zero, at most 2 decimals; sent and returned as a string such as "9.99".',
}
Price = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2),
    WithJsonSchema(PRICE_JSON_SCHEMA, mode="validation"),
]
Description = Annotated[Text, Field(max_length=2000)]


def _unique(tags: list[str]) -> list[str]:
    if len(set(tags)) != len(tags):
        raise ValueError("tags must be unique")
    return tags


# Duplicates are refused rather than dropped: what is stored is what was sent.
Tags = Annotated[
    list[Tag],
    Field(
        max_length=20,
        json_schema_extra={"uniqueItems": True},
        description="Up to 20 distinct tags of [A-Za-z0-9_.-]{1,32} (ASCII), trimmed.",
    ),
    AfterValidator(_unique),
]


# Fields a client may send when creating an item.
class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    price: Price
    in_stock: bool = True
    tags: Tags = Field(default_factory=list)


# Fields a client may change; all optional, none nullable except description.
class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    in_stock: bool | None = None
    tags: Tags | None = None


# What the API returns for one item.
class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price: Decimal
    in_stock: bool
    tags: list[str]
    created_at: datetime
    updated_at: datetime


# One page of items. No total: counting every matching row costs the whole table on each
# call; a client pages with next_cursor until it is null.
class ItemsPublic(BaseModel):
    items: list[ItemPublic]
    limit: int
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page, with the same filters; null on the "
        "last page"
    )


# The OAuth2 password flow's form (RFC 6749 4.3.2), its text typed like every other input.
class LoginForm(BaseModel):
    grant_type: Literal["password"] | None = None
    username: line(max_length=255) = Field(description="The account's email.")
    password: Annotated[Text, Field(json_schema_extra={"format": "password"})]
    scope: Text = ""


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class Version(BaseModel):
    version: str
    git_sha: str


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
