from __future__ import annotations

import subprocess
import sys


def test_import_predictbench_loads_nothing_heavy() -> None:
    code = (
        "import sys, predictbench as pb; "
        "heavy = [m for m in ('pandas', 'pyarrow', 'lightgbm', 'torch', 'matplotlib', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
