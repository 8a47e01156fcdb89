"""The README keeps exactly two set-up commands, and CI runs the second one (the test command) verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)]


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _setup_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in command for command in commands), "each set-up command is one line"
    assert commands[0].startswith("pip install") and "predictbench quickstart" in commands[0]
    assert commands[1].startswith("pip install") and commands[1].endswith("make test")


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert _setup_commands()[1] in ci_lines


def test_readme_test_command_installs_torch_cpu_build() -> None:
    # the torch tests (GCN, comparator, proxies, supernet) must run in CI, not skip: the command installs torch itself
    assert "torch==2.13.0" in _setup_commands()[1]
