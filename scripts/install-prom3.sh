#!/usr/bin/env bash
# Unpacks Prometheus 3.x and Alertmanager 0.3x into .tmp/prom3 (never into the system), for the CI leg
# that runs the rules, Alertmanager and end-to-end tests on them: Debian 12's are 2.42 and 0.25. The
# `prometheus`, `promtool` (a package of its own there) and `prometheus-alertmanager` packages of Debian's
# testing release (forky) are downloaded
# with a private apt state (its own sources list, lists and cache under .tmp/prom3/apt; the system's apt
# sources and dpkg database are left as they are) and extracted with dpkg-deb -x. The mirror is the one
# the system's own Debian sources name. Idempotent; prints the directory to put first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.tmp/prom3
bindir=$root/usr/bin
release=${PROM3_RELEASE:-forky}

# Debian names the Alertmanager binary prometheus-alertmanager (as the testkit runs it).
versions_ok() {
  [[ -x $bindir/prometheus && -x $bindir/promtool && -x $bindir/prometheus-alertmanager && -x $bindir/amtool ]] &&
    "$bindir/prometheus" --version 2>&1 | grep -q 'version 3\.' &&
    "$bindir/prometheus-alertmanager" --version 2>&1 | grep -q 'version 0\.[3-9][0-9]\.'
}
if versions_ok; then
  echo "$bindir"
  exit 0
fi

# The Debian mirror of the system's sources (deb822 or one-line format).
mirror=$(
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}'; } |
    grep -E '/debian/?$' | head -n1
) || true
if [[ -z $mirror ]]; then
  echo "install-prom3: no Debian mirror in the system's apt sources" >&2
  exit 1
fi

apt=$root/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $release main" >"$apt/sources.list"
opts=(
  -o "Dir::Etc::SourceList=$apt/sources.list"
  -o "Dir::Etc::SourceParts=$apt/parts"
  -o "Dir::State::Lists=$apt/lists"
  -o "Dir::Cache=$apt/cache"
  -o "APT::Get::List-Cleanup=0"
  # The download lands in the repository, which the _apt sandbox user may not be able to write.
  -o "APT::Sandbox::User=root"
)
apt-get "${opts[@]}" -qq update
(cd "$apt" && rm -f ./*.deb && apt-get "${opts[@]}" -qq download prometheus promtool prometheus-alertmanager)
for deb in "$apt"/*.deb; do dpkg-deb -x "$deb" "$root"; done
if ! versions_ok; then
  echo "install-prom3: expected Prometheus 3.x, promtool and Alertmanager 0.3x in $bindir, got:" \
    "$("$bindir/prometheus" --version 2>&1 | head -n1) / $("$bindir/prometheus-alertmanager" --version 2>&1 | head -n1)" >&2
  exit 1
fi
echo "$bindir"
