import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return Path(os.environ.get("DIANOIA_TEST_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def stories_path() -> str:
    p = data_dir() / "models" / "stories260K" / "stories260K.gguf"
    if not p.exists():
        pytest.skip(f"{p} is missing (shared test data)")
    return str(p)


@pytest.fixture(scope="session")
def smol_path() -> str:
    home = Path(os.environ.get("DIANOIA_HOME", Path.home() / ".cache" / "dianoia"))
    p = home / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not p.exists():
        pytest.skip(f"{p} is missing (bash scripts/fetch-default-model.sh)")
    return str(p)


@pytest.fixture(scope="session")
def reference_outputs() -> dict:
    import json
    return json.loads((data_dir() / "models" / "stories260K" / "reference_outputs.json").read_text())


@pytest.fixture(scope="session")
def template_fixtures() -> dict:
    import json
    return json.loads((REPO / "tests" / "fixtures" / "chat_templates.json").read_text())
