"""The core speaks of sides, never of a platform: `git grep -i` finds "eccp" and "kicox" in the engine, the
reconciler, the ledger and the CLI only in comments, docstrings and help texts.

A hit is classified by the Python token it falls in: a comment is prose; a string is prose when it is a
docstring, the value of a `help=` argument or of a `*_HELP` constant; any other string and every identifier
is code.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ("src/clusterbridge/sync", "src/clusterbridge/reconcile", "src/clusterbridge/store", "src/clusterbridge/cli.py")
PLATFORM = re.compile(r"eccp|kicox", re.IGNORECASE)
# string tokens: Python 3.12 splits an f-string into parts, whose text is FSTRING_MIDDLE
STRINGS = frozenset({tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)})



def _is_help(node: ast.AST) -> bool:
    """A `help=` argument, or an assignment to a `*_HELP` constant."""
    if isinstance(node, ast.keyword):
        return node.arg == "help"
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("_HELP")
                                                for t in node.targets)


def _prose_spans(tree: ast.AST) -> list[tuple[int, int]]:
    """Line spans of docstrings and help texts."""
    spans: list[tuple[int, int]] = []

    def add(node: ast.AST | None) -> None:
        if node is not None and isinstance(node, ast.expr):
            spans.append((node.lineno, node.end_lineno or node.lineno))

    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                   str):
                add(first.value)
        elif _is_help(node):
            add(getattr(node, "value", None))
    return spans


def platform_names_in_code(source: str) -> list[tuple[int, str]]:
    """(line, token) of every identifier or non-prose string of `source` that names a platform."""
    spans = _prose_spans(ast.parse(source))
    found: list[tuple[int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if (token.type != tokenize.NAME and token.type not in STRINGS) or not PLATFORM.search(token.string):
            continue
        line = token.start[0]
        if token.type in STRINGS and any(start <= line <= end for start, end in spans):
            continue
        found.append((line, token.string))
    return found


def core_hits() -> list[tuple[str, int, str]]:
    """(file, line, token) of platform names in the core's code, among the lines `git grep -i` finds."""
    grep = subprocess.run(["git", "grep", "-l", "-i", "-E", "eccp|kicox", "--", *CORE], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert grep.returncode in (0, 1), grep.stderr  # 1: nothing found
    hits: list[tuple[str, int, str]] = []
    for name in grep.stdout.split():
        source = (ROOT / name).read_text(encoding="utf-8")
        hits += [(name, line, token) for line, token in platform_names_in_code(source)]
    return hits


class TestTheCheck:
    """The classifier tells code from prose."""

    def test_prose_passes_and_code_is_caught(self) -> None:
        source = '''"""Syncs ECCP and KICOX (a docstring)."""
import click

HOW_HELP = "eccp-to-kicox or both"


@click.option("--to", help="send to KICOX")
def run(settings):
    """Runs for kicox."""
    # a comment about ECCP
    url = settings.eccp_base_url
    return url if settings.kind != "kicox" else f"{url}/eccp"
'''
        found = platform_names_in_code(source)
        assert [line for line, _ in found] == [11, 12, 12]
        assert found[:2] == [(11, "eccp_base_url"), (12, '"kicox"')]


class TestCoreNamesNoPlatform:
    """No platform name is code in sync/, reconcile/, store/ or cli.py."""

    def test_no_platform_name_in_core_code(self) -> None:
        assert core_hits() == []
