from __future__ import annotations

from pathlib import Path

import pytest

from codegen.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "../shared/openapi/swagger.json"


@pytest.fixture(scope="session")
def spec() -> Spec:
    if not SPEC_PATH.exists():
        pytest.skip(f"OpenAPI spec not found at {SPEC_PATH}")
    return load_spec(SPEC_PATH, SPEC_PATH.parent / "v3")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def spec_path(spec: Spec) -> Path:
    return SPEC_PATH
