"""The layers of STYLE.md, as an import-linter contract that cannot drift."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Contracts: 4 kept, 0 broken" in res.stdout


def test_simulator_code_draws_only_from_passed_generators():
    offenders = []
    for path in (ROOT / "sim").rglob("*.py"):
        text = path.read_text()
        for bad in (
            "np.random.seed(",
            "random.seed(",
            "np.random.rand(",
            "np.random.normal(",
            "np.random.choice(",
            "import random\n",
        ):
            if bad in text:
                offenders.append(f"{path.relative_to(ROOT)}: {bad.strip()}")
    assert offenders == []


def test_no_module_of_the_simulator_grows_past_600_lines():
    """Parts a newcomer can read: the model is a façade, and no module is a second monolith."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "sim"
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert long == {}
    assert len((root / "engine" / "model.py").read_text().splitlines()) < 600
