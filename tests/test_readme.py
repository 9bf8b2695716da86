"""The README's promises: CI runs exactly its test command, and its demos run."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    demo, tests = _readme_commands()
    assert "examples/" in demo and "pip install" in demo
    assert "pytest" in tests and "pip install" in tests
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_quickstart_runs_and_prints_the_derivatives():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "f'(2)            = 7.0" in out
    assert "loop derivative  = 17496.0" in out
