from __future__ import annotations

from pathlib import Path

import pytest

from codegen.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "schemas/openapi/swagger.json.gz"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec(SPEC_PATH, SPEC_PATH.parent / "v3")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def spec_path(spec: Spec) -> Path:
    return SPEC_PATH
