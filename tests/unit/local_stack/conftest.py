from pathlib import Path

import pytest

FIXTURE_STACK = Path(__file__).parent / "fixture_stack"


@pytest.fixture
def fixture_stack() -> Path:
    return FIXTURE_STACK


@pytest.fixture
def write_template(tmp_path: Path):
    """A template file from YAML text, for resolver cases that need no files around them."""

    def write(text: str) -> Path:
        path = tmp_path / "template.yaml"
        path.write_text(text)
        return path

    return write
