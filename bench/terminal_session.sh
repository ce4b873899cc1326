#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An operator at a shell, for recordings of a "terminal session" (bench/record.sh, convert): types a command
# at about 8 keys a second, reads its output (2-60 lines of real, varying system text) for 2-12 s, now and
# then clears the screen or pages through a long file. Deterministic for a given seed. Runs until killed.
# Usage (inside an xterm): bench/terminal_session.sh [SEED]
RANDOM=${1:-18}
commands=(
  "ls -l /usr/bin | head -40"
  "ps aux --sort=-rss | head -25"
  "df -h"
  "free -m"
  "ls -la /etc | tail -30"
  "sed -n \$((RANDOM % 200 + 1)),+35p /etc/services"
  "uptime; who"
  "ls /usr/share/doc | column -c 150 | head -45"
  "date; cat /proc/loadavg"
  "ip -brief address 2>/dev/null || cat /proc/net/dev"
  "du -sh /usr/share/* 2>/dev/null | sort -h | tail -20"
  "grep -c . /etc/passwd /etc/group /etc/services"
  "clear"
  "head -c 4000 /usr/share/common-licenses/GPL-3 | fold -w 150"
)
prompt() { printf '\033[1;32moperator@console\033[0m:\033[1;34m~\033[0m$ '; }
while :; do
  cmd=${commands[$((RANDOM % ${#commands[@]}))]}
  prompt
  for ((i = 0; i < ${#cmd}; i++)); do
    printf '%s' "${cmd:i:1}"
    sleep 0.12
  done
  printf '\n'
  eval "$cmd"
  sleep $((RANDOM % 11 + 2))
done
