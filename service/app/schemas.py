"""Request and response bodies."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[\w.-]+$"),
]
Price = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Description = Annotated[str, Field(max_length=2000)]


# Fields a client may send when creating an item.
class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    price: Price
    in_stock: bool = True
    tags: list[Tag] = Field(default_factory=list, max_length=20)


# Fields a client may change; all optional, none nullable except description.
class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    in_stock: bool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)


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
    next_cursor: int | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class Version(BaseModel):
    version: str
    git_sha: str


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
