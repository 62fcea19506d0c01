"""The image tests' engine and image fixtures: the study's container cells need both, and
skip (or, with CI=true, fail) the same way where no engine can run a container."""

from tests.image.conftest import engine, image  # noqa: F401 (fixtures)
