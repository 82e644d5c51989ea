#!/usr/bin/env bash
# abi-compliance-checker: the ABI of capi/dianoia.h now against the committed dump of the last release
# (tests/abi/dianoia-<version>.abi.gz, gzip of the checker's dump). Header-only mode: the types, layouts and signatures come from
# compiling the header with GCC, so no debug build of the library is needed (abi-dumper would want one);
# the exported-symbol list is checked by abi_symbols. Exit 77 (skipped) without the tool.
#   check_abi.sh HEADER BASELINE WORKDIR         compare (fails on an incompatible change)
#   check_abi.sh --dump HEADER OUT VERSION       make a new baseline at a release
set -euo pipefail
if ! command -v abi-compliance-checker >/dev/null; then
  echo "abi-compliance-checker is not installed (scripts/setup.sh installs it): skipped"
  exit 77
fi
descriptor() {  # header version file
  printf '<version>%s</version>\n<headers>%s</headers>\n<libs></libs>\n' "$2" "$1" >"$3"
}
if [[ $1 == --dump ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  descriptor "$(realpath "$2")" "$4" "$tmp/d.xml"
  (cd "$tmp" && abi-compliance-checker -lib dianoia -headers-only -dump d.xml -dump-path abi.dump </dev/null)
  gzip -9n <"$tmp/abi.dump" >"$3"
  exit
fi
header=$(realpath "$1") baseline=$(realpath "$2") work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
gzip -dc "$baseline" >baseline.dump
descriptor "$header" current d.xml
abi-compliance-checker -lib dianoia -headers-only -dump d.xml -dump-path current.dump </dev/null >dump.log 2>&1 ||
  { cat dump.log; exit 1; }
status=0
abi-compliance-checker -lib dianoia -headers-only -old baseline.dump -new current.dump \
  -report-path report.html </dev/null || status=$?
if ((status == 1)); then
  echo "incompatible ABI change against $(basename "$baseline"): see $work/report.html"
fi
exit $status
