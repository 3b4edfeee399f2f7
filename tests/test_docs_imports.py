"""Everything the docs import works: each ``from cxlab... import ...`` and
``import cxlab...`` statement in a README.md or docs/*.md code block runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_IMPORT = re.compile(r"^\s*(from\s+cxlab[\w.]*\s+import\s+.+|import\s+cxlab[\w.]*(\s+as\s+\w+)?)\s*$")


def _statements(text: str) -> list[str]:
    """Import statements of the code blocks, with parenthesized continuations joined."""
    out = []
    for block in _BLOCK.findall(text):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].split("#")[0].rstrip()
            if line.lstrip().startswith(">>> "):
                line = line.lstrip()[4:]
            if line.endswith("(") and re.match(r"\s*from\s+cxlab", line):
                parts = [line]
                while not lines[i].rstrip().endswith(")") and i + 1 < len(lines):
                    i += 1
                    parts.append(lines[i].split("#")[0].strip().removeprefix("... "))
                line = " ".join(parts)
            if _IMPORT.match(line.strip()) or re.match(r"\s*from\s+cxlab[\w.]*\s+import\s+\(", line):
                out.append(line.strip())
            i += 1
    return out


CASES = [(doc.relative_to(ROOT).as_posix(), stmt) for doc in DOCS for stmt in _statements(doc.read_text("utf-8"))]


def test_the_docs_show_imports() -> None:
    assert len(CASES) >= 4, CASES  # the extraction itself works


@pytest.mark.parametrize(("doc", "statement"), CASES, ids=[f"{d}:{s}" for d, s in CASES])
def test_doc_import_runs(doc: str, statement: str) -> None:
    exec(compile(statement, doc, "exec"), {})  # noqa: S102 - our own docs, imports only


def test_extraction_joins_parenthesized_imports() -> None:
    text = "```python\nfrom cxlab.clv import (\n    BetaGeo,\n    churn_risk,\n)\nimport cxlab.metrics as m\n```\n"
    assert _statements(text) == ["from cxlab.clv import ( BetaGeo, churn_risk, )", "import cxlab.metrics as m"]
