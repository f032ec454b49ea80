#!/usr/bin/env bash
# Makes the base images deploy/Dockerfile and the compose test need, on a machine
# with a Docker engine but no registry to pull from, out of Debian's packages:
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm, imported under the
#                          tag the Dockerfile names (a user with Docker Hub pulls the
#                          real one instead and never runs this);
#   accord-nats:debian     that image with Debian's nats-server in it, which the test's
#                          compose override runs instead of the pinned upstream image.
#
# Idempotent: an image that exists is kept. Needs root (debootstrap) and a Debian
# mirror (DEBIAN_MIRROR, default deb.debian.org). Usage: bash deploy/base-images.sh
set -euo pipefail

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
have() { docker image inspect "$1" >/dev/null 2>&1; }
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

if ! have debian:bookworm-slim; then
  command -v debootstrap >/dev/null || { echo "base-images: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  root=$(mktemp -d)
  scratch+=("$root")
  echo "base-images: debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - debian:bookworm-slim >/dev/null
  echo "base-images: made debian:bookworm-slim"
fi

if ! have accord-nats:debian; then
  context=$(mktemp -d)
  scratch+=("$context")
  # Debian's nats-server: the one installed here, else the package's binary.
  if [ -x /usr/sbin/nats-server ]; then
    cp /usr/sbin/nats-server "$context/nats-server"
  else
    (cd "$context" && apt-get download nats-server >/dev/null && dpkg-deb -x nats-server_*.deb pkg \
      && cp pkg/usr/sbin/nats-server nats-server)
  fi
  cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
COPY nats-server /usr/sbin/nats-server
ENTRYPOINT ["/usr/sbin/nats-server"]
DOCKERFILE
  docker build -q -t accord-nats:debian "$context" >/dev/null
  echo "base-images: made accord-nats:debian ($(/usr/sbin/nats-server --version 2>/dev/null || echo Debian package))"
fi
