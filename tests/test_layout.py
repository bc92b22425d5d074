"""Tests say where they live: a test module imports shared code from tests/helpers only, never from another
test module or a conftest (pytest imports those itself, and a second import runs them twice)."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_modules_import_shared_code_from_helpers_only():
    offending = [f"{path.relative_to(TESTS.parent)}:{node.lineno} imports {node.module}"
                 for path in sorted(TESTS.rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.")
                 and not node.module.startswith("tests.helpers")]
    assert not offending, "\n".join(offending)
