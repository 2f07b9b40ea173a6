"""`--generate-cli-skeleton input|output` for every operation of every model the client
serves, against aws CLI v1's own code on the same models.

The reference runs exactly what aws CLI v1 runs for these flags, in-process (spawning aws
400 times would take minutes): `generatecliskeleton.GenerateCliSkeletonArgument` prints
`ArgumentGenerator().generate_skeleton(input_shape)` for `input`; for `output`,
`StubbedCLIOperationCaller` stubs `ArgumentGenerator(use_member_names=True)`'s sample, which
the Stubber validates against the output shape (botocore's ParamValidator), and aws's JSON
formatter prints it. The model is ours (botocore loads `models/<service>.json`), so the two
sides read the same shapes; botocore's random enum choice is pinned to the first value,
as tidemark documents.

Where aws v1 prints a sample (it exits 0), tidemark must print the same bytes. Where aws v1
fails with "Parameter validation failed" because its own sample breaks the model's limits,
tidemark must print a sample that fits the model (checked here against the model's
constraints). The operation's input is a minimal valid `--cli-input-json` (required members
only), the same for both."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODELS = {name: json.loads((REPO / f"models/{name}.json").read_text()) for name in ("dynamodb", "redshift", "redshift-data")}


def _service_model(name: str):
    from botocore.model import ServiceModel

    return ServiceModel(MODELS[name], service_name=name)


def _minimal(shape, depth: int = 0):
    """A value that passes botocore's validation: required members only, within limits."""
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if getattr(shape, "is_tagged_union", False):
            name, member = next(iter(shape.members.items()))
            return {name: _minimal(member, depth + 1)}
        return {n: _minimal(shape.members[n], depth + 1) for n in meta.get("required", [])}
    if t == "list":
        return [_minimal(shape.member, depth + 1) for _ in range(int(meta.get("min", 0)))]
    if t == "map":
        return {}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        return "x" * max(int(meta.get("min", 1)), 1)
    if t in ("integer", "long"):
        return int(max(meta.get("min", 0), 0))
    if t in ("float", "double"):
        return float(max(meta.get("min", 0), 0))
    if t == "boolean":
        return True
    if t == "timestamp":
        return "1970-01-01T00:00:00Z"
    if t == "blob":
        return "eA=="
    return None


def _fits(shape, v, path: str) -> list[str]:
    """Model constraints a printed sample must meet (timestamps and blobs as aws prints them)."""
    t, meta = shape.type_name, shape.metadata
    bad = [f"{path}: {v!r} is not a {t}"]
    if t == "structure":
        if not isinstance(v, dict):
            return bad
        errs = [f"{path}: missing {r}" for r in meta.get("required", []) if r not in v]
        errs += [f"{path}: unknown {k}" for k in v if k not in shape.members]
        if getattr(shape, "is_tagged_union", False) and len(v) != 1:
            errs.append(f"{path}: a tagged union holds one member, not {len(v)}")
        for k, x in v.items():
            if k in shape.members:
                errs += _fits(shape.members[k], x, f"{path}.{k}")
        return errs
    if t in ("list", "map"):
        if not isinstance(v, list if t == "list" else dict):
            return bad
        errs = []
        if len(v) < meta.get("min", 0) or len(v) > meta.get("max", float("inf")):
            errs.append(f"{path}: {len(v)} items outside [{meta.get('min')}, {meta.get('max')}]")
        items = v if t == "list" else v.values()
        member = shape.member if t == "list" else shape.value
        for i, x in enumerate(items):
            errs += _fits(member, x, f"{path}[{i}]")
        if t == "map":
            for k in v:
                errs += _fits(shape.key, k, f"{path} key")
        return errs
    if t == "string":
        if not isinstance(v, str):
            return bad
        if shape.enum and v not in shape.enum:
            return [f"{path}: {v!r} not in the enum"]
        if len(v) < meta.get("min", 0) or len(v) > meta.get("max", float("inf")):
            return [f"{path}: length {len(v)} outside [{meta.get('min')}, {meta.get('max')}]"]
        return []
    if t in ("integer", "long", "float", "double"):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return bad
        if v < meta.get("min", float("-inf")) or v > meta.get("max", float("inf")):
            return [f"{path}: {v} outside [{meta.get('min')}, {meta.get('max')}]"]
        return []
    if t == "boolean":
        return [] if isinstance(v, bool) else bad
    if t == "timestamp":
        return [] if isinstance(v, str) else bad
    if t == "blob":
        try:
            base64.b64decode(v, validate=True)
        except Exception:  # noqa: BLE001
            return bad
        return []
    return bad


def _aws_input(op) -> str:
    from awscli.utils import json_encoder
    from botocore.utils import ArgumentGenerator

    skeleton = {} if op.input_shape is None else ArgumentGenerator().generate_skeleton(op.input_shape)
    return json.dumps(skeleton, indent=4, default=json_encoder) + "\n"


def _aws_output(op) -> tuple[str, bool]:
    """What aws prints for `--generate-cli-skeleton output`, and whether it succeeded."""
    from awscli.utils import json_encoder
    from botocore.exceptions import ParamValidationError
    from botocore.utils import ArgumentGenerator
    from botocore.validate import validate_parameters

    fake = {}
    if op.output_shape is not None:
        fake = ArgumentGenerator(use_member_names=True).generate_skeleton(op.output_shape)
        try:
            validate_parameters(fake, op.output_shape)
        except ParamValidationError:
            return "", False
    if fake == {}:
        return "", True
    return json.dumps(fake, indent=4, default=json_encoder, ensure_ascii=False) + "\n", True


def _ops() -> list[tuple[str, str]]:
    return [(svc, name) for svc, m in MODELS.items() for name in m["operations"]]


@pytest.fixture(autouse=True)
def _first_enum_value(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.utils

    monkeypatch.setattr(botocore.utils.random, "choice", lambda seq: seq[0])


def _tidemark(binaries, cli_env, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    argv = [str(binaries["tidemark"]), *args, "--endpoint-url", "http://127.0.0.1:9"]
    return subprocess.run(argv, capture_output=True, env=cli_env, timeout=30)


def test_every_operation_is_covered() -> None:
    ops = _ops()
    assert len(ops) > 150
    assert {s for s, _ in ops} == {"dynamodb", "redshift", "redshift-data"}


@pytest.mark.parametrize(("service", "op_name"), _ops(), ids=[f"{s}:{o}" for s, o in _ops()])
def test_skeletons_match_aws(service, op_name, binaries, cli_env) -> None:
    from botocore import xform_name

    op = _service_model(service).operation_model(op_name)
    cli_op = xform_name(op_name, "-")

    r = _tidemark(binaries, cli_env, [service, cli_op, "--generate-cli-skeleton", "input"])
    assert (r.stdout.decode(), r.returncode) == (_aws_input(op), 0)

    params = {} if op.input_shape is None else _minimal(op.input_shape)
    r = _tidemark(
        binaries,
        cli_env,
        [service, cli_op, "--generate-cli-skeleton", "output", "--cli-input-json", json.dumps(params)],
    )
    want, aws_ok = _aws_output(op)
    assert r.returncode == 0, r.stderr.decode()
    if aws_ok:
        assert r.stdout.decode() == want
    else:
        # aws fails here; ours must fit the model.
        printed = json.loads(r.stdout.decode())
        assert _fits(op.output_shape, printed, "output") == []
