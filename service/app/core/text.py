"""The text types every input goes through: what PostgreSQL can store, and what a name may be.

PostgreSQL refuses U+0000 in text and a driver cannot encode a lone surrogate (JSON's "\\ud800"),
so a value carrying either would fail in the database, after validation, as a 500. Every text
input of the API (query, form, body) is one of the types below, so it fails here instead, as a
422 naming the field.
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# Unicode categories refused in names, tags and search prefixes: controls (C0 and C1: NUL,
# CR/LF, ESC of ANSI sequences), format characters (zero-width space and joiners, bidi
# overrides), surrogates, and the line and paragraph separators.
REFUSED_IN_LINES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# In free text (descriptions, passwords) only what PostgreSQL cannot store (NUL, surrogates)
# and the other controls are refused; line breaks and tabs are content.
REFUSED_IN_TEXT = frozenset({"Cc", "Cs"})
ALLOWED_CONTROLS_IN_TEXT = frozenset("\t\n\r")


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def storable(value: str) -> str:
    """Refuse what PostgreSQL cannot store: NUL, lone surrogates, and other C0/C1 controls."""
    for char in value:
        if char in ALLOWED_CONTROLS_IN_TEXT:
            continue
        if unicodedata.category(char) in REFUSED_IN_TEXT:
            raise ValueError(f"must not contain the control character {_describe(char)}")
    return value


def single_line(value: str) -> str:
    """Refuse control, format and separator characters: text that shows as one line and looks
    like what it is."""
    for char in value:
        if unicodedata.category(char) in REFUSED_IN_LINES:
            raise ValueError(
                f"must not contain the control or invisible character {_describe(char)}"
            )
    return value


def _char_class(categories: frozenset[str], allowed: frozenset[str] = frozenset()) -> str:
    """The Basic Multilingual Plane's code points of these categories as the body of a regex
    character class, in \\uXXXX escapes that Python, ECMAScript and Rust read alike. For the
    OpenAPI document (clients and the fuzzer generate from it); the validators above are the
    authority, and also refuse such characters beyond the BMP."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char) in categories and char not in allowed:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(
        f"\\u{start:04x}" if start == end else f"\\u{start:04x}-\\u{end:04x}"
        for start, end in ranges
    )


_REFUSED_IN_LINES = _char_class(REFUSED_IN_LINES)
_REFUSED_IN_TEXT = _char_class(REFUSED_IN_TEXT, ALLOWED_CONTROLS_IN_TEXT)
LINE_PATTERN = f"^[^{_REFUSED_IN_LINES}]*$"
# Trimmed lines need one character that is not whitespace.
TRIMMED_LINE_PATTERN = f"^[^{_REFUSED_IN_LINES}]*[^\\s{_REFUSED_IN_LINES}][^{_REFUSED_IN_LINES}]*$"
TEXT_PATTERN = f"^[^{_REFUSED_IN_TEXT}]*$"


def line(*, max_length: int, min_length: int = 1, strip: bool = False):
    """A name-like value: NFC-normalised (composed and decomposed forms are one value), then
    trimmed when strip, then length-checked, and one visible line."""

    def prepare(value: object) -> object:
        if not isinstance(value, str):
            return value
        value = unicodedata.normalize("NFC", value)
        return value.strip() if strip else value

    # Annotations apply inside out: prepare runs first, single_line last.
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(single_line),
        BeforeValidator(prepare),
        Field(json_schema_extra={"pattern": TRIMMED_LINE_PATTERN if strip else LINE_PATTERN}),
    ]


# Free text such as a description or a password: any printable text and line breaks.
Text = Annotated[str, AfterValidator(storable), Field(json_schema_extra={"pattern": TEXT_PATTERN})]

# Tags: strictly ASCII letters, digits, '_', '.', '-'.
TAG_PATTERN = r"^[A-Za-z0-9_.-]+$"
TAG_MAX_LENGTH = 32
Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TAG_MAX_LENGTH, pattern=TAG_PATTERN
    ),
]
