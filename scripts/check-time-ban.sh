#!/usr/bin/env bash
# Proves that clippy.toml's time ban fires: lints a throwaway crate that calls each banned
# function with the workspace's clippy.toml and Cargo.lock, and fails unless clippy reports
# every call as `disallowed_methods`. (A ban whose path does not resolve never fires, and
# nothing else would notice: issue #20.)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tidemark-time-ban.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cp clippy.toml Cargo.lock "$tmp/"
jiff_version="$(awk '/^name = "jiff"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
cat >"$tmp/Cargo.toml" <<TOML
[package]
name = "time-ban-probe"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
jiff = "=$jiff_version"

[workspace]
TOML
cat >"$tmp/src/lib.rs" <<'RS'
pub fn probes() -> (std::time::SystemTime, jiff::Timestamp, jiff::Zoned) {
    (std::time::SystemTime::now(), jiff::Timestamp::now(), jiff::Zoned::now())
}
RS
out="$(cd "$tmp" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
  cargo clippy --quiet --offline -- -D clippy::disallowed_methods 2>&1 || true)"
for f in 'std::time::SystemTime::now' 'jiff::Timestamp::now' 'jiff::Zoned::now'; do
  if ! grep -q "use of a disallowed method \`$f\`" <<<"$out"; then
    echo "the time ban does not catch $f; clippy said:" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "the time ban catches SystemTime::now, jiff::Timestamp::now and jiff::Zoned::now"
