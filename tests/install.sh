#!/usr/bin/env bash
# `make install` into a temporary root, then checks what it put there: every
# program, its man page (rendered by groff without a warning, every setting
# of --help-markdown in it), every systemd unit (placeholders substituted,
# `systemd-analyze verify` clean inside that root), the example
# configurations and build/share/sharebus/.  Run by `make test` after `make
# all`.  Usage: tests/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "install: FAIL: $*" >&2; failures=$((failures + 1)); }

# The Makefile's own lists, so that a program or unit added later is checked too.
printf 'print-%%:\n\t@echo $($*)\n' >"$tmp/print.mk"
var() { make -s --no-print-directory -f Makefile -f "$tmp/print.mk" "print-$1"; }
read -ra programs <<<"$(var PROGRAMS)"
read -ra units <<<"$(var UNITS)"
read -ra examples <<<"$(var EXAMPLES)"
((${#programs[@]} && ${#units[@]} && ${#examples[@]})) || { echo "install: cannot read the Makefile's lists" >&2; exit 1; }

install_into() { # DESTDIR, then make variables
  local dest=$1
  shift
  make -s --no-print-directory install DESTDIR="$dest" "$@" >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; echo "install: make install $* failed" >&2; exit 1; }
}
root=$tmp/root
install_into "$root" PREFIX=/usr
echo "install: make install DESTDIR=$root PREFIX=/usr"

# ---- programs and man pages ----
man1=$root/usr/share/man/man1
for p in "${programs[@]}"; do
  [[ -x $root/usr/bin/$p ]] || fail "no program $p in /usr/bin"
  page=$man1/$p.1
  if [[ ! -f $page ]]; then fail "no man page $p.1"; continue; fi
  cmp -s "$page" <("build/bin/$p" --help-man) || fail "$p.1 is not what $p --help-man prints"
  warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1) || fail "groff failed on $p.1"
  [[ -z $warnings ]] || fail "groff warns on $p.1: $warnings"
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS '"EXIT STATUS"' '"SEE ALSO"'; do
    grep -qx ".SH $section" "$page" || fail "$p.1 has no section $section"
  done
  # A program with a table of settings: each one in CONFIGURATION.
  if markdown=$("build/bin/$p" --help-markdown 2>/dev/null); then
    grep -qx '.SH CONFIGURATION' "$page" || fail "$p.1 has no CONFIGURATION"
    n=0
    while read -r name; do
      n=$((n + 1))
      grep -qF "\\fB${name//-/\\-}\\fR (" "$page" || fail "$p.1 lacks setting $name"
    done < <(sed -n 's/^| `\([^`]*\)` |.*/\1/p' <<<"$markdown")
    ((n > 1)) || fail "no settings read from $p --help-markdown"
  fi
  # SEE ALSO names installed pages only, and every other one.
  while read -r ref; do
    [[ -f $man1/$ref.1 ]] || fail "$p.1 refers to $ref(1), which is not installed"
  done < <(grep -o 'sharebus\\-[a-z\\-]*\\fR(1)' "$page" | sed 's/\\fR(1)//; s/\\-/-/g')
  for other in "${programs[@]}"; do
    [[ $other == "$p" ]] || grep -qF "\\fB${other//-/\\-}\\fR(1)" "$page" ||
      fail "$p.1: SEE ALSO lacks $other(1) (the list of programs in common/sb_man.c)"
  done
done

# ---- units ----
unitdir=$root/usr/lib/systemd/system
for daemon in sharebus-registry sharebus-producer sharebus-subscriber sharebus-lag; do
  printf '%s\n' "${units[@]}" | grep -q "/$daemon@.service.in$" || fail "no unit template for $daemon"
done
for src in "${units[@]}"; do
  unit=$(basename "$src" .in)
  program=${unit%@.service}
  file=$unitdir/$unit
  if [[ ! -f $file ]]; then fail "unit $unit not installed"; continue; fi
  ! grep -n '@[a-z_]*@' "$file" >&2 || fail "$unit: a placeholder is left"
  grep -qx "ExecStart=/usr/bin/$program --config /etc/sharebus/${program#sharebus-}/%i.conf" "$file" ||
    fail "$unit: ExecStart is not /usr/bin/$program --config /etc/sharebus/${program#sharebus-}/%i.conf"
  # Its man page tells where the unit reads its configuration, and the example named there is installed.
  grep -qF "\\fB${program//-/\\-}\\fR\\fB@.service\\fR" "$man1/$program.1" 2>/dev/null ||
    fail "$program.1 does not name $unit (the list of daemons in common/sb_man.c)"
  [[ -f $root/usr/share/sharebus/examples/${program#sharebus-}.conf ]] ||
    fail "no example ${program#sharebus-}.conf for $unit"
done
# A page naming a unit that is not installed.
for p in "${programs[@]}"; do
  if grep -qF '@.service\fR' "$man1/$p.1" 2>/dev/null && [[ ! -f $unitdir/$p@.service ]]; then
    fail "$p.1 names a unit $p@.service that make install does not install"
  fi
done

# systemd-analyze verify inside the root: the ExecStart binaries and the man
# pages of Documentation= are the installed ones.  The root gets the host's
# targets and slices, which the units' dependencies need.
command -v systemd-analyze >/dev/null || { echo "install: no systemd-analyze (Debian package systemd)" >&2; exit 1; }
mkdir -p "$root/etc/systemd/system"
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$root/etc/systemd/system/"
verify() { # root, unit
  MANPATH=$1/usr/share/man systemd-analyze verify --root="$1" --recursive-errors=yes "$2" 2>&1
}
for src in "${units[@]}"; do
  unit=$(basename "$src" .in)
  instance=${unit/@./@check.}
  out=$(verify "$root" "$instance") || fail "systemd-analyze verify $instance: $out"
  [[ -z $out ]] || fail "systemd-analyze verify $instance says: $out"
done
# The verification is not idle: a bad key, or a unit whose program is absent, fails it.
bad=$tmp/bad
cp -a "$root" "$bad"
unit=$(basename "${units[0]}" .in)
sed -i 's/^Restart=on-failure$/Restart=sometimes/' "$bad/usr/lib/systemd/system/$unit"
verify "$bad" "${unit/@./@check.}" >/dev/null && fail "systemd-analyze verify accepts Restart=sometimes"
cp "$root/usr/lib/systemd/system/$unit" "$bad/usr/lib/systemd/system/$unit"
rm "$bad/usr/bin/${unit%@.service}"
verify "$bad" "${unit/@./@check.}" >/dev/null && fail "systemd-analyze verify accepts a unit without its program"

# ---- examples and build/share/sharebus ----
for f in "${examples[@]}"; do
  cmp -s "$f" "$root/usr/share/sharebus/examples/$(basename "$f")" || fail "example $f not installed"
done
if [[ -d build/share/sharebus ]]; then
  while read -r f; do
    cmp -s "$f" "$root/usr/share/sharebus/${f#build/share/sharebus/}" || fail "$f not installed"
  done < <(find build/share/sharebus -type f)
fi

# ---- the paths follow PREFIX, SYSCONFDIR and SYSTEMD_UNITDIR ----
other=$tmp/other
install_into "$other" PREFIX=/opt/sb SYSCONFDIR=/opt/sb/etc SYSTEMD_UNITDIR=/opt/sb/units
unit=$(basename "${units[0]}" .in)
program=${unit%@.service}
grep -qx "ExecStart=/opt/sb/bin/$program --config /opt/sb/etc/sharebus/${program#sharebus-}/%i.conf" \
  "$other/opt/sb/units/$unit" || fail "PREFIX=/opt/sb SYSCONFDIR=/opt/sb/etc: $unit has the wrong ExecStart"
[[ -f $other/opt/sb/share/man/man1/$program.1 ]] || fail "PREFIX=/opt/sb: no $program.1"

if ((failures)); then
  echo "install: $failures failure(s)" >&2
  exit 1
fi
echo "install: ${#programs[@]} programs and man pages, ${#units[@]} units (systemd-analyze verify clean)," \
  "${#examples[@]} examples: ok"
