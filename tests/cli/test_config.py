"""Configuration resolution, compared with aws CLI v1: profiles from ~/.aws/config and
~/.aws/credentials, region, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, per-profile
endpoint_url and `services` sections, missing profiles and missing credentials."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture()
def home(tmp_path: Path, moto_endpoint: str) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[default]\nregion = us-east-1\n\n"
        f"[profile dev]\nregion = eu-west-1\nendpoint_url = {moto_endpoint}\n\n"
        "[profile svc]\nregion = us-east-1\nservices = local\n\n"
        f"[services local]\ndynamodb =\n  endpoint_url = {moto_endpoint}\n\n"
        "[profile text]\nregion = us-east-1\noutput = text\n\n"
        "[profile novalidate]\nregion = us-east-1\nparameter_validation = false\n"
    )
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n"
        "[dev]\naws_access_key_id = devkey\naws_secret_access_key = devsecret\n\n"
        "[svc]\naws_access_key_id = k\naws_secret_access_key = s\n\n"
        "[text]\naws_access_key_id = k\naws_secret_access_key = s\n\n"
        "[novalidate]\naws_access_key_id = k\naws_secret_access_key = s\n"
    )
    return tmp_path


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    env.update(extra)
    return env


def compare(binaries, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[bytes]:
    out = {}
    for who in ("aws", "tidemark"):
        out[who] = subprocess.run([str(binaries[who]), *args], capture_output=True, env=env, cwd=HERE, timeout=120)
    a, t = out["aws"], out["tidemark"]
    assert t.stdout.decode() == a.stdout.decode()
    a_err = [ln for ln in a.stderr.splitlines() if ln.strip()]
    t_err = [ln for ln in t.stderr.splitlines() if ln.strip()]
    assert (t_err[-1:] or [b""])[0].decode() == (a_err[-1:] or [b""])[0].decode()
    assert t.returncode == a.returncode
    return t


def test_profile_endpoint_and_region(binaries, home, moto_endpoint) -> None:
    # eu-west-1 has no tables in moto: proves both the endpoint and the region came from `dev`.
    t = compare(binaries, env_for(home), ["dynamodb", "list-tables", "--profile", "dev"])
    assert t.stdout.decode() == '{\n    "TableNames": []\n}\n'


def test_profile_from_environment(binaries, home) -> None:
    compare(binaries, env_for(home, AWS_PROFILE="dev"), ["dynamodb", "list-tables"])


def test_services_section(binaries, home) -> None:
    t = compare(binaries, env_for(home), ["dynamodb", "list-tables", "--profile", "svc", "--query", "TableNames[0]"])
    assert t.stdout.decode() == '"Cli"\n'


def test_endpoint_env_vars(binaries, home, moto_endpoint) -> None:
    compare(binaries, env_for(home, AWS_ENDPOINT_URL=moto_endpoint), ["redshift", "describe-clusters", "--query", "Clusters[].ClusterIdentifier"])
    compare(binaries, env_for(home, AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint, AWS_ENDPOINT_URL="http://127.0.0.1:9"), ["dynamodb", "list-tables"])


def test_output_from_profile(binaries, home, moto_endpoint) -> None:
    t = compare(binaries, env_for(home), ["dynamodb", "list-tables", "--profile", "text", "--endpoint-url", moto_endpoint])
    assert t.stdout.decode().startswith("TABLENAMES\t")


def test_missing_profile(binaries, home) -> None:
    t = compare(binaries, env_for(home), ["dynamodb", "list-tables", "--profile", "nope"])
    assert t.returncode == 255


def test_missing_credentials(binaries, tmp_path, moto_endpoint) -> None:
    env = env_for(tmp_path, AWS_DEFAULT_REGION="us-east-1")
    t = compare(binaries, env, ["dynamodb", "list-tables", "--endpoint-url", moto_endpoint])
    assert b"Unable to locate credentials" in t.stderr


def test_env_credentials_override_files(binaries, home, moto_endpoint) -> None:
    env = env_for(home, AWS_ACCESS_KEY_ID="envkey", AWS_SECRET_ACCESS_KEY="envsecret")
    compare(binaries, env, ["dynamodb", "list-tables", "--endpoint-url", moto_endpoint, "--output", "table"])


def test_parameter_validation_off(binaries, home, moto_endpoint) -> None:
    # "ab" is below BackupName's min length 3: only the server may judge it now.
    args = ["dynamodb", "create-backup", "--table-name", "Cli", "--backup-name", "ab", "--endpoint-url", moto_endpoint]
    compare(binaries, env_for(home), args)
    compare(binaries, env_for(home), [*args, "--profile", "novalidate", "--query", "BackupDetails.BackupName"])
