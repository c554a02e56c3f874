#!/usr/bin/env bash
# Unpacks Docker Compose v2 into .tmp/compose-v2 (never into the system), for test/compose.test.ts:
# Debian 12's docker-compose is 1.29 (end of life), so the `docker-compose` package of Debian 13 (trixie,
# Compose 2.x) is downloaded with a private apt state (its own sources list, lists and cache under
# .tmp/compose-v2/apt; the system's apt sources and dpkg database are left as they are) and extracted with
# dpkg-deb -x. The mirror is the one the system's own Debian sources name. Idempotent; prints the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.tmp/compose-v2
bin=$root/usr/libexec/docker/cli-plugins/docker-compose

if [[ -x $bin ]] && "$bin" version --short 2>/dev/null | grep -q '^v\?2\.'; then
  echo "$bin"
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
  echo "install-compose-v2: no Debian mirror in the system's apt sources" >&2
  exit 1
fi

apt=$root/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt/sources.list"
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
(cd "$apt" && rm -f docker-compose_*.deb && apt-get "${opts[@]}" -qq download docker-compose)
dpkg-deb -x "$apt"/docker-compose_*.deb "$root"
if ! "$bin" version --short | grep -q '^v\?2\.'; then
  echo "install-compose-v2: $bin is not Compose v2: $("$bin" version 2>&1)" >&2
  exit 1
fi
echo "$bin"
