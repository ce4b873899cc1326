#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the tiny QEMU test guest (see shared TESTING.md): a Debian kernel (extracted, not installed) plus a
# busybox initramfs whose /init paints the console. Usage: scripts/make-guest.sh OUTDIR
# Produces OUTDIR/vmlinuz and OUTDIR/initrd.gz. Idempotent: does nothing when both exist and are newer than
# this script.
#
# Kernel command line switches (they reach /init's environment):
#   MODE=tick    (default) prints "tick N HH:MM:SS" on tty0 every second; "ready" on ttyS0 after the first.
#   MODE=static  paints a fixed multi-colour screen once (scripts/lib/colour-screen.sh), hides the cursor,
#                prints "ready" on ttyS0, sleeps.
#   MODE=text    the same with a plain grey console (boot messages, a shell session): what recordings show.
#   MODE=input   MODE=text, then keeps the console open for reading, so keys typed into the VM echo on
#                screen (the gateway tests type through viewers and look for the change on the screendump).
#   MODE=shell   an interactive busybox shell on the console (prompt "# ", blinking cursor), with commands for
#                tests: `colours` (ANSI colours, bold, backgrounds), `nocursor` (hides the cursor so the screen
#                holds still) and `drm-on` (loads the bochs DRM driver: the console changes size, as RESIZE_AT).
#   RESIZE_AT=N  (tick mode, with video=800x600) loads the bochs DRM driver at tick N: the console switches
#                from 720x400 text mode to an 800x600 framebuffer and VNC clients get a DesktopSize update.
#   vga=0x317    (a kernel parameter, any mode) boots into the 1024x768 framebuffer console (fbcon) instead
#                of 720x400 VGA text mode.
#   FONT=NAME    (with vga=0x317) loads console font NAME (one of the Debian console-setup fonts copied into
#                /fonts: Lat15-Terminus16, Uni2-Fixed16, Lat15-Terminus14; PSF1, which busybox loadfont reads) first.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
script=$(readlink -f "$0")
colour_screen=$(dirname "$script")/lib/colour-screen.sh
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ] && [ "$out/vmlinuz" -nt "$script" ] &&
   [ "$out/initrd.gz" -nt "$script" ] && [ "$out/initrd.gz" -nt "$colour_screen" ]; then
  exit 0
fi

busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-guest: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- kernel -------------------------------------------------------------------------------------------
if [ ! -s "$out/vmlinuz" ] || [ ! "$out/vmlinuz" -nt "$script" ]; then
  pkg_name() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
  pkg=$(pkg_name || true)
  if ! (cd "$work" && [ -n "$pkg" ] && apt-get download "$pkg" >/dev/null 2>&1); then
    apt-get update -qq
    pkg=$(pkg_name)
    [ -n "$pkg" ] || { echo "make-guest: cannot resolve linux-image-amd64's kernel package" >&2; exit 1; }
    (cd "$work" && apt-get download "$pkg" >/dev/null)
  fi
  dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
  # The bochs DRM driver and the modules it needs, in load order (dependencies from each module's own
  # "depends=" tag; the package has no modules.dep): /init loads them at RESIZE_AT to switch the console from
  # VGA text mode to an 800x600 framebuffer.
  rm -rf "$out/drm" && mkdir -p "$out/drm"
  moddir=$(echo "$work"/k/lib/modules/*/kernel)
  loaded=" "
  count=0
  add_module() {
    local name=${1//-/_} file dep
    case "$loaded" in *" $name "*) return ;; esac
    file=$(find "$moddir" \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "${name//_/-}.ko" \
           -o -name "${name//_/-}.ko.xz" \) | head -1)
    [ -n "$file" ] || { echo "make-guest: module $name not found" >&2; exit 1; }
    case "$file" in *.xz) xz -dc "$file" > "$work/$name.ko" ;; *) cp "$file" "$work/$name.ko" ;; esac
    for dep in $(strings "$work/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do add_module "$dep"; done
    loaded="$loaded$name "
    count=$((count + 1))
    mv "$work/$name.ko" "$out/drm/$(printf %02d $count)-$name.ko"
  }
  add_module bochs
  cp "$work"/k/boot/vmlinuz-* "$out/vmlinuz.tmp"
  mv "$out/vmlinuz.tmp" "$out/vmlinuz"
fi

# --- initramfs ----------------------------------------------------------------------------------------
ird=$work/ird
mkdir -p "$ird/bin" "$ird/dev" "$ird/proc" "$ird/sys"
cp "$busybox" "$ird/bin/busybox"
cp "$colour_screen" "$ird/bin/colour-screen"
mkdir -p "$ird/drm" && cp "$out"/drm/*.ko "$ird/drm/"
# Console fonts for FONT= (text-reading tests: fbcon in more than the kernel's built-in font).
mkdir -p "$ird/fonts"
for f in Lat15-Terminus16 Uni2-Fixed16 Lat15-Terminus14; do
  src=/usr/share/consolefonts/$f.psf.gz
  [ -s "$src" ] || { echo "make-guest: $src missing (apt-get install console-setup-linux)" >&2; exit 1; }
  gzip -dc "$src" > "$ird/fonts/$f.psf"
done
cat > "$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
MODE=${MODE:-tick}
if [ -n "$FONT" ]; then loadfont < "/fonts/$FONT.psf" 2> /dev/ttyS0; fi

# What a Linux VM's text console usually shows: grey boot messages and a login prompt.
paint_text() {
  e=$(printf '\033')
  printf '%s[2J%s[H' "$e" "$e"
  printf '[    0.000000] Linux version 6.1.0-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14))\n'
  printf '[    0.000000] Command line: console=ttyS0 console=tty0 consoleblank=0\n'
  printf '[    0.012345] BIOS-provided physical RAM map:\n'
  printf '[    0.123456] ACPI: RSDP 0x00000000000F5A40 000014 (v00 BOCHS )\n'
  printf '[    1.234567] EXT4-fs (vda1): mounted filesystem with ordered data mode.\n'
  printf '[  OK  ] Started Journal Service.\n[  OK  ] Reached target Local File Systems.\n'
  printf '[  OK  ] Started OpenBSD Secure Shell server.\n[  OK  ] Reached target Multi-User System.\n\n'
  printf 'Debian GNU/Linux 12 vm-0001 tty1\n\nvm-0001 login: root\nPassword:\n'
  printf 'root@vm-0001:~# uptime\n 06:25:01 up 3 min,  1 user,  load average: 0.08, 0.03, 0.01\n'
  printf 'root@vm-0001:~# ls /etc | head -4\nadduser.conf\nalternatives\napt\nbash.bashrc\nroot@vm-0001:~# '
  printf '%s[?25l' "$e"
}

if [ "$MODE" = shell ]; then
  cat > /bin/colours <<'COLOURS'
#!/bin/sh
e=$(printf '\033')
for fg in 31 32 33 34 35 36 37; do
  printf '%s[%sm colour %s %s[1;%sm bold %s %s[%s;%sm on background %s[0m\n' "$e" "$fg" "$fg" "$e" "$fg" "$fg" \
    "$e" "$((fg - 30 + 40))" "$(( (fg + 3) % 8 + 30 ))" "$e"
done
COLOURS
  printf '#!/bin/sh\nprintf "\\033[?25l"\n' > /bin/nocursor
  printf '#!/bin/sh\nfor m in /drm/*.ko; do insmod "$m"; done\n' > /bin/drm-on
  chmod +x /bin/colours /bin/nocursor /bin/drm-on
  echo ready > /dev/ttyS0
  export PS1='# ' HOME=/ TERM=linux
  # A session of its own with the console as controlling terminal: line editing and Ctrl-C work as on a VM.
  while :; do setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1'; sleep 1; done
fi

if [ "$MODE" = static ] || [ "$MODE" = text ] || [ "$MODE" = input ]; then
  if [ "$MODE" = static ]; then colour-screen > /dev/tty0; else paint_text > /dev/tty0; fi
  echo ready > /dev/ttyS0
  # The line discipline echoes typed keys only while someone has the console open.
  if [ "$MODE" = input ]; then while :; do cat < /dev/tty0 > /dev/null; done; fi
  while :; do sleep 3600; done
fi

i=0
while :; do
  i=$((i + 1))
  echo "tick $i $(date +%T)" > /dev/tty0
  echo "tick $i" > /dev/ttyS0
  [ $i -eq 1 ] && echo ready > /dev/ttyS0
  if [ -n "$RESIZE_AT" ] && [ $i -eq "$RESIZE_AT" ]; then
    for m in /drm/*.ko; do insmod "$m" 2> /dev/ttyS0; done
    echo "resized" > /dev/ttyS0
  fi
  sleep 1
done
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initrd.gz.tmp")
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
touch "$out/vmlinuz" "$out/initrd.gz"
echo "make-guest: built $out/vmlinuz and $out/initrd.gz"
