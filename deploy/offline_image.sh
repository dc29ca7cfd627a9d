#!/usr/bin/env bash
# Builds the longwatch image (docker-compose.yml's one image) on a machine where builds reach no image
# registry and no package index: tests/deploy runs it (`make test-deploy`) before starting the containers.
#
# The Dockerfile builds from `python:3.11-slim` and the package index on a user's machine. Here this script
# gives it instead, through build arguments and the build context:
#   - a base image made from Debian's own packages (debootstrap of bookworm, which carries Python 3.11),
#     imported with `docker import`;
#   - a wheelhouse resolved by the host's pip (which has its packages on this disk), hard-linked into
#     deploy/wheels/ for the build and removed from there afterwards.
# Both are made once and kept in a cache directory outside git (LONGWATCH_DEPLOY_CACHE). A Docker engine
# is started, as root, when none answers; it is left running for the containers that follow.
#
# Environment: LONGWATCH_DEPLOY_CACHE (default ~/.cache/longwatch/deploy), LONGWATCH_BASE_IMAGE (the base
# image's tag), DEBIAN_MIRROR (debootstrap's mirror), PYTHON (a Python 3.11 whose pip makes the wheelhouse).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LONGWATCH_DEPLOY_CACHE:-$HOME/.cache/longwatch/deploy}"
BASE_TAG="${LONGWATCH_BASE_IMAGE:-longwatch-base:bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PYTHON:-python3}"
# Bookworm's Python is 3.11: the wheelhouse's compiled wheels must be for the same minor version.
PYTHON_VERSION=3.11
# What the Dockerfile would otherwise take from python:3.11-slim and apt-get (opencv needs libGL and glib).
BASE_PACKAGES=python3,python3-venv,python3-pip,ca-certificates,libgl1,libglib2.0-0
DOCKERD_WAIT_S=60  # a fresh engine answers within seconds; a minute means it will not
ROOTFS_TARBALL="$CACHE/base/bookworm-rootfs.tar"
WHEELHOUSE="$CACHE/wheels"
WHEELHOUSE_STAMP="$CACHE/wheels.requirements.sha256"  # the requirements the wheelhouse was resolved for
CONTEXT_WHEELS="$ROOT/deploy/wheels"
LINKED_WHEELS=()

log() { echo "offline_image: $*" >&2; }
die() { log "error: $*"; exit 1; }

# docker-compose.yml's one tool: the Compose plugin when this docker has it, else Debian's docker-compose 1.29.
compose() {
    if docker compose version >/dev/null 2>&1; then
        docker compose "$@"
    elif command -v docker-compose >/dev/null 2>&1; then
        docker-compose "$@"
    else
        die "neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install docker-compose)"
    fi
}

ensure_engine() {
    docker info >/dev/null 2>&1 && return
    [ "$(id -u)" = 0 ] || die "no Docker engine answers 'docker info', and only root may start one here"
    command -v dockerd >/dev/null 2>&1 || die "no Docker engine answers, and dockerd is not installed (apt-get install docker.io)"
    log "starting dockerd (log: $CACHE/dockerd.log)"
    # Its own session, so that it outlives this script and make: the containers need it afterwards.
    setsid dockerd >"$CACHE/dockerd.log" 2>&1 </dev/null &
    local waited_s
    for ((waited_s = 0; waited_s < DOCKERD_WAIT_S; waited_s++)); do
        docker info >/dev/null 2>&1 && return
        sleep 1
    done
    die "dockerd did not answer 'docker info' within ${DOCKERD_WAIT_S} s; see $CACHE/dockerd.log"
}

# A debootstrap that failed half-way may leave /proc or /sys mounted inside its target: never rm -rf those.
remove_rootfs() {
    local rootfs="$1"
    if grep -q " $rootfs/" /proc/mounts; then
        die "something is still mounted under $rootfs (see /proc/mounts); unmount it, then run this again"
    fi
    rm -rf "$rootfs"
}

make_rootfs_tarball() {
    [ "$(id -u)" = 0 ] || die "making the base image runs debootstrap, which needs root"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
    local rootfs="$CACHE/base/rootfs"
    mkdir -p "$CACHE/base"
    remove_rootfs "$rootfs"
    log "debootstrap of bookworm into $rootfs (a few minutes, once)"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$DEBIAN_MIRROR" >"$CACHE/base/debootstrap.log" 2>&1 \
        || die "debootstrap failed; see $CACHE/base/debootstrap.log"
    # The downloaded .debs and package lists are of no use in an image that never runs apt-get.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$ROOTFS_TARBALL.partial" .
    mv "$ROOTFS_TARBALL.partial" "$ROOTFS_TARBALL"
    remove_rootfs "$rootfs"
}

# The image is kept by the engine; the tarball is kept too, so a pruned image comes back without debootstrap.
ensure_base_image() {
    if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
        log "base image $BASE_TAG: present"
        return
    fi
    [ -f "$ROOTFS_TARBALL" ] || make_rootfs_tarball
    log "importing $ROOTFS_TARBALL as $BASE_TAG"
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        "$ROOTFS_TARBALL" "$BASE_TAG" >/dev/null
}

build_requirements() {
    "$PYTHON" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]))' \
        "$ROOT/pyproject.toml"
}

# A hash of what pyproject.toml asks to install, so that an edit of its tool settings keeps the wheelhouse.
requirements_hash() {
    "$PYTHON" -c 'import json, sys, tomllib; p = tomllib.load(open(sys.argv[1], "rb")); print(json.dumps(
        [p["project"]["requires-python"], p["project"]["dependencies"], p["build-system"]["requires"]]))' \
        "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1
}

# Resolved again only when those requirements change: a download is about 900 MB and a minute or two.
ensure_wheelhouse() {
    local want
    want="$(requirements_hash)"
    if [ -f "$WHEELHOUSE_STAMP" ] && [ "$(cat "$WHEELHOUSE_STAMP")" = "$want" ] && [ -d "$WHEELHOUSE" ]; then
        log "wheelhouse $WHEELHOUSE: up to date with pyproject.toml's requirements"
        return
    fi
    local version
    version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    [ "$version" = "$PYTHON_VERSION" ] || die "$PYTHON is Python $version; the image runs $PYTHON_VERSION (set PYTHON)"
    log "resolving the wheelhouse into $WHEELHOUSE (a minute or two, once per set of requirements)"
    rm -rf "$WHEELHOUSE.partial"
    local requirements
    mapfile -t requirements < <(build_requirements)
    # The build-system requirements too: the image builds the project itself with --no-index.
    "$PYTHON" -m pip download --dest "$WHEELHOUSE.partial" "$ROOT" "${requirements[@]}" >"$CACHE/pip-download.log" 2>&1 \
        || die "pip download failed; see $CACHE/pip-download.log"
    rm -rf "$WHEELHOUSE"
    mv "$WHEELHOUSE.partial" "$WHEELHOUSE"
    echo "$want" >"$WHEELHOUSE_STAMP"
}

# Hard links cost no space or time; a copy where the cache is on another filesystem.
link_wheels() {
    local wheel target
    for wheel in "$WHEELHOUSE"/*; do
        target="$CONTEXT_WHEELS/$(basename "$wheel")"
        ln -f "$wheel" "$target" 2>/dev/null || cp -f "$wheel" "$target"
        LINKED_WHEELS+=("$target")
    done
}

# deploy/wheels/ goes back to its README alone, so a user's next `docker compose build` uses the index.
unlink_wheels() {
    if [ "${#LINKED_WHEELS[@]}" -gt 0 ]; then
        rm -f "${LINKED_WHEELS[@]}"
    fi
}

main() {
    mkdir -p "$CACHE"
    ensure_engine
    ensure_base_image
    ensure_wheelhouse
    trap unlink_wheels EXIT
    link_wheels
    log "building the image from $BASE_TAG and ${#LINKED_WHEELS[@]} files of the wheelhouse"
    # One service is enough: every service runs the same image (tests/unit/test_compose.py checks they do).
    compose -f "$ROOT/docker-compose.yml" build --build-arg "BASE_IMAGE=$BASE_TAG" memory
}

main "$@"
