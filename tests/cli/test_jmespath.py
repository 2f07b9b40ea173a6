"""aws CLI v1's JMESPath, differentially: every expression of EXPRESSIONS runs over every
document of DOCS through aws CLI v1's own code (awscli `globalargs._resolve_query`, which
compiles with jmespath.py, and awscli's `JSONFormatter`) and through tidemark's `--query`
path (the `jmes` example: the client's compile and output code); stdout, stderr and exit
code must be identical. This pins jmespath.py's leniencies (legacy backtick literals that are
not JSON), its Python semantics (int/float results, `1 == 1.0`, comparisons) and its error
texts, which differ from the JMESPath spec and other implementations.

The tidemark side is `$TIDEMARK_JMES_BIN`, else `target/debug/examples/jmes`
(`cargo build -p tidemark-cli --example jmes`)."""

from __future__ import annotations

import io
import json
import os
import subprocess
from argparse import Namespace
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

DOCS = {
    "backups": {
        "BackupSummaries": [
            {"BackupName": "nightly", "BackupArn": "arn:b/1", "BackupSizeBytes": 10, "Tags": ["a", "b"]},
            {"BackupName": "weekly", "BackupArn": "arn:b/2", "BackupSizeBytes": 2.5, "Tags": []},
            {"BackupName": "nightly", "BackupArn": "arn:b/3", "BackupSizeBytes": 0, "Tags": ["c"]},
            {"BackupName": "Ünïcode ✓", "BackupArn": "arn:b/4", "BackupSizeBytes": 1e20, "Tags": None},
        ],
        "Count": 4,
        "Flag": True,
        "Empty": {},
        "Nested": [[1, 2], [3, [4, 5]], 6, None],
        "Mixed": [1, 1.0, True, "1", None, [1], {"a": 1}],
        "Nums": [3, 1.5, -2, 0, 10],
        "Strs": ["b", "a", "C", "ä"],
    },
    "scalar": "just a string",
}

EXPRESSIONS = [
    # legacy literals: not JSON, so jmespath.py reads them as strings
    "BackupSummaries[?BackupName==`nightly`].BackupArn",
    "BackupSummaries[?BackupName==`weekly`] | [0].BackupArn",
    "BackupSummaries[?BackupName!=`nightly`].BackupName",
    "`foo bar`",
    "`  leading`",
    "`\"json\"`",
    "`[1, 2]`",
    "`{\"a\": 1}`",
    "`1.50`",
    "`true`",
    "`null`",
    "`a\\`b`",
    "`\"unterminated`",
    "BackupSummaries[?BackupName==`nightly`]|length(@)",
    # raw strings and identifiers
    "'raw'",
    "'it\\'s'",
    '"Count"',
    '"BackupSummaries"[0]."BackupName"',
    # numbers, Python style
    "sum(Nums)",
    "sum([Count, Count])",
    "avg(Nums)",
    "avg([Count])",
    "max(Nums)",
    "min(Nums)",
    "abs(`-3`)",
    "abs(`-3.5`)",
    "ceil(`1.2`)",
    "floor(`-1.2`)",
    "ceil(Count)",
    "BackupSummaries[].BackupSizeBytes",
    "to_number('42')",
    "to_number(' 7 ')",
    "to_number('1e3')",
    "to_number('x')",
    "to_number(`true`)",
    "to_string(BackupSummaries[3])",
    "to_string(`1.0`)",
    "to_string('x')",
    # comparisons
    "Mixed[?@ == `1`]",
    "Mixed[?@ == `true`]",
    "`1` == `1.0`",
    "[`1`] == [`true`]",
    "`0` == `false`",
    "Nums[?@ > `1`]",
    "Strs[?@ > 'a']",
    "`1` < 'a'",
    "Flag < `1`",
    "BackupSummaries[?BackupSizeBytes >= `2.5`].BackupName",
    # truthiness, projections, slices
    "`0` || 'x'",
    "'' || 'x'",
    "!`0`",
    "!Empty",
    "Count && Flag",
    "Nested[]",
    "Nested[][]",
    "Nums[::-1]",
    "Nums[1:3]",
    "Nums[-2:]",
    "Nums[::2]",
    "Nums[::0]",
    "Nested[0][1:2]",
    "Nums[10]",
    "Nums[-1]",
    "*.Count",
    "BackupSummaries[*].Tags[0]",
    "{n: Count, f: Flag, e: Missing}",
    "[Count, Missing]",
    "Missing.{a: b}",
    "BackupSummaries[].[BackupName, BackupSizeBytes]",
    # functions
    "length(BackupSummaries[0].BackupName)",
    "length(BackupSummaries[3].BackupName)",
    "reverse(Strs)",
    "reverse('abc')",
    "sort(Strs)",
    "sort(Nums)",
    "sort_by(BackupSummaries, &BackupName)[].BackupArn",
    "sort_by(BackupSummaries, &BackupSizeBytes)[].BackupArn",
    "max_by(BackupSummaries, &BackupSizeBytes).BackupArn",
    "min_by(BackupSummaries, &BackupName).BackupArn",
    "map(&BackupName, BackupSummaries)",
    "join(', ', Strs)",
    "contains(Strs, 'a')",
    "contains('abc', 'b')",
    "contains(Mixed, `true`)",
    "starts_with(BackupSummaries[0].BackupName, 'ni')",
    "ends_with(BackupSummaries[0].BackupName, 'ly')",
    "keys(BackupSummaries[0])",
    "values(Empty)",
    "merge(BackupSummaries[0], {BackupName: 'x'})",
    "not_null(Missing, Count)",
    "to_array(Count)",
    "type(Nums)",
    "type(Flag)",
    "length(a b)",
    # runtime errors: arity, types, unknown functions, Python exceptions
    "length(Count)",
    "sum(Strs)",
    "sum(Mixed)",
    "max(Mixed)",
    "avg(Strs)",
    "join(', ', Nums)",
    "length()",
    "not_null()",
    "abs(`1`, `2`)",
    "nosuch(@)",
    "contains('abc', `1`)",
    "sort_by(BackupSummaries, &Tags)",
    "sort_by(Nums, 'x')",
    "min_by(Mixed, &@)",
    "merge(Empty, `1`)",
    # compile errors
    "",
    "BackupSummaries[",
    "a.",
    "a[?",
    "]",
    "a.1",
    "a = b",
    "a =",
    "-",
    "a ~ b",
    "Ä",
    "foo[1:2:3:4]",
    "{a: b c}",
    "{1: a}",
    "\"quoted\"(a)",
    "@(a)",
    "a[*",
    '"bad \\q"',
    "a b",
    "'unterminated",
    "&a.b",
    "[?a]",
]


def _reference(expr: str, doc: object) -> tuple[str, str, int]:
    from awscli.customizations.globalargs import _resolve_query
    from awscli.formatter import JSONFormatter

    try:
        query = _resolve_query(expr)
        out = io.StringIO()
        JSONFormatter(Namespace(query=query))("test", json.loads(json.dumps(doc)), out)
        return out.getvalue(), "", 0
    except Exception as e:  # noqa: BLE001 - awscli's main() catches everything the same way
        return "", f"\n{e}\n", 255


def _jmes_bin() -> Path:
    env = os.environ.get("TIDEMARK_JMES_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug/examples/jmes"
    if not path.is_file():
        pytest.fail("build the hook: cargo build -p tidemark-cli --example jmes")
    return path


def test_corpus_is_big_enough() -> None:
    assert len(EXPRESSIONS) >= 50
    assert sum("`" in e for e in EXPRESSIONS) >= 10


@pytest.mark.parametrize("doc_name", sorted(DOCS))
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_same_as_jmespath_py(expr: str, doc_name: str) -> None:
    doc = DOCS[doc_name]
    want = _reference(expr, doc)
    r = subprocess.run(
        [str(_jmes_bin()), expr],
        input=json.dumps(doc).encode(),
        capture_output=True,
        timeout=30,
    )
    got = (r.stdout.decode(), r.stderr.decode(), r.returncode)
    assert got == want
