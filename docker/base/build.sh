#!/usr/bin/env bash
# Build the Debian base image of every local image without a registry: debootstrap a minimal
# Debian bookworm with Debian's Python 3.11 (the same minor version as the pinned wheels),
# strip what a container never reads, and `docker import` it.
#
#   docker/base/build.sh [TAG]        (default bnpl-base:bookworm; needs root and debootstrap)
#
# The Debian mirror is the one apt on this machine already uses (or DEBIAN_MIRROR), so the
# image comes from exactly the packages this machine reaches. The image carries a label with
# the hash of this script: an image with the same hash is kept, so a warm `make images` does
# not debootstrap again.
set -euo pipefail

TAG="${1:-bnpl-base:bookworm}"
SUITE=bookworm
# python3-venv brings ensurepip's pip wheel (the images' build stages make virtualenvs);
# python-is-python3 gives `python`, the name the images' entry points and health checks use.
# fonts-dejavu-core: the TrueType faces the credit service embeds in its PDF documents (fpdf2's
# core fonts are Latin-1 only); without them documents answer 503 and no plan can be confirmed.
PACKAGES=python3,python3-venv,python-is-python3,fonts-dejavu-core
RECIPE=1
INPUTS_HASH="$(printf '%s\n' "$SUITE" "$PACKAGES" "$RECIPE" | sha256sum | cut -c1-16)"

if [ "$(docker image inspect --format '{{ index .Config.Labels "org.bnpl.base-inputs" }}' "$TAG" 2>/dev/null)" = "$INPUTS_HASH" ]; then
  echo "base image $TAG is up to date (inputs $INPUTS_HASH)"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "debootstrap needs root: run as root (CI does)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
  # A Debian package, from the same mirror as everything else: `make test` installs what it needs.
  echo "installing debootstrap (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || { echo "debootstrap is missing and could not be installed: apt-get install -y debootstrap" >&2; exit 1; }
fi

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # the first plain Debian repository apt knows for this suite (not -security, not -updates)
  mirror="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null \
    | awk -v suite="$SUITE" '$2 == suite { print $1; exit }')"
fi
[ -n "$mirror" ] || { echo "no Debian $SUITE repository in apt's sources: set DEBIAN_MIRROR" >&2; exit 1; }

rootfs="$(mktemp -d /var/tmp/bnpl-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
started=$SECONDS
echo "debootstrap $SUITE (minbase + $PACKAGES) from apt's mirror into $rootfs"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

# What a container never reads: documentation, manuals, translations, apt's lists and caches.
rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian,linda}/* \
       "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
       "$rootfs"/tmp/* "$rootfs"/var/tmp/*
# The guest's apt points at the host's mirror, which means nothing inside a container.
rm -f "$rootfs"/etc/apt/sources.list "$rootfs"/etc/apt/sources.list.d/*

tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  --change "LABEL org.bnpl.base-inputs=$INPUTS_HASH" \
  --change 'CMD ["python3"]' \
  - "$TAG" >/dev/null
echo "base image $TAG built in $((SECONDS - started)) s: $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"
