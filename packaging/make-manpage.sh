#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vncgate(1) from the CLI's own help (help2man): the top-level --help, then every subcommand's --help as a
# section of its own, so the man page cannot drift from the options the binary accepts.
# Usage: packaging/make-manpage.sh BINARY OUT.1
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY OUT.1" >&2
  exit 2
fi
binary=$(realpath "$1")
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Called through PATH so that the usage lines say "vncgate", not the build path.
ln -s "$binary" "$work/vncgate"
export PATH="$work:$PATH"

# roff-escape a help text: backslashes, and lines starting with a control character.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
{
  echo "[SUBCOMMANDS]"
  for cmd in $(vncgate --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'); do
    echo ".SS \"vncgate $cmd\""
    echo ".nf"
    vncgate "$cmd" --help | escape
    echo ".fi"
  done
  cat <<'ROFF'
[FILES]
.TP
.I /etc/vncgate/vncgate.toml
configuration of \fBvncgate serve\fR in the Debian package (every key: /usr/share/doc/vncgate/configuration.md.gz)
.TP
.I /etc/vncgate/secrets.env
optional environment file of the systemd unit: API keys, S3 and OpenStack credentials
.TP
.I /var/lib/vncgate
job database, work files and local recordings; kept when the package is purged
[ENVIRONMENT]
Every configuration key has a variable: \fBVNCGATE_\fISECTION\fB_\fIKEY\fR (e.g. \fBVNCGATE_SERVER_PORT\fR).
S3 credentials: \fBVNCGATE_S3_ACCESS_KEY\fR, \fBVNCGATE_S3_SECRET_KEY\fR.
[SIGNALS]
\fBvncgate serve\fR stops gracefully on SIGTERM and SIGINT and reloads its configuration on SIGHUP
(log.level applies at once; other changes are named in a warning and wait for a restart).
Under systemd it reports readiness with sd_notify (Type=notify).
[SEE ALSO]
/usr/share/doc/vncgate/operations.md.gz, /usr/share/doc/vncgate/configuration.md.gz
ROFF
} > "$work/extra.h2m"

help2man --no-info --no-discard-stderr --section=1 --source="vncgate" \
  --name="record and proxy VM consoles over VNC" --include="$work/extra.h2m" --output="$out" vncgate
