#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Prints the multi-colour test screen (ANSI colours 30-37 and 40-47, bold, reverse, underline, dim) and hides
# the cursor. The QEMU test guest paints it on its console (MODE=static, scripts/make-guest.sh copies this file
# into the initramfs) and recording tests show it in an xterm on Xvnc, so both kinds of console show the
# same picture. POSIX sh and busybox sh alike.
e=$(printf '\033')
printf '%s[2J%s[H' "$e" "$e"
printf '%s[1;37;44m vncgate test guest: static screen                                    %s[0m\n' "$e" "$e"
printf '\n'
printf '  %s[31mred text%s[0m  %s[32mgreen text%s[0m  %s[33myellow%s[0m  %s[34mblue%s[0m  %s[35mmagenta%s[0m  %s[36mcyan%s[0m\n' \
  "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e"
printf '  %s[1;31mbold red%s[0m  %s[1;32mbold green%s[0m  %s[1;33mbold yellow%s[0m  %s[1mbold white%s[0m\n' \
  "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e"
printf '  %s[42;30m black on green %s[0m %s[41;37m white on red %s[0m %s[43;34m blue on yellow %s[0m %s[46;35m magenta on cyan %s[0m\n' \
  "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e"
printf '  %s[7m reverse video %s[0m  %s[4munderlined%s[0m  %s[2mdim text%s[0m\n' "$e" "$e" "$e" "$e" "$e" "$e"
printf '\n'
i=0
while [ $i -lt 12 ]; do
  fg=$((30 + i % 8)); bg=$((40 + (i + 3) % 8))
  printf '  %s[%d;%dm line %02d: The quick brown fox jumps over the lazy dog 0123456789 %s[0m\n' \
    "$e" "$fg" "$bg" "$i" "$e"
  i=$((i + 1))
done
printf '\n  %s[1;35m#####%s[1;36m#####%s[1;33m#####%s[1;32m#####%s[0m  end of test pattern\n' \
  "$e" "$e" "$e" "$e" "$e"
printf '%s[?25l' "$e"
