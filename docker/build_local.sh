#!/usr/bin/env bash
# Build the training image where there is no Docker engine and no access to a container registry:
# podman with runc, a Debian bookworm base (Python 3.11) made with debootstrap under its own tag (given to
# the Dockerfile as BASE_IMAGE: a real python:3.11-slim on this host stays what it is), and the Python
# packages from a wheelhouse built on the host, mounted into the build (pip inside it never talks to an
# index; the wheels, 3 GB, are not in the build context: .dockerignore leaves docker/.build out). Needs root and: apt-get install -y podman runc debootstrap
#   docker/build_local.sh                  # -> image noisyrobust (IMAGE=name to change)
#   CONTAINERS_CONF=docker/containers.conf podman run --runtime runc --rm noisyrobust \
#       method=ce noise=sym0.4 trainer=cpu trainer.max_epochs=3
# Everything it downloads stays under docker/.build/ (ignored by git): rootfs/, wheels/.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-noisyrobust}
BASE=localhost/noisyrobust-base:bookworm         # the Dockerfile's FROM, as --build-arg BASE_IMAGE
BUILD=docker/.build
PYTHON=${PYTHON:-python3}                        # its pip builds the wheelhouse: Python 3.11, Linux x86_64
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export CONTAINERS_CONF=$PWD/docker/containers.conf

for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found; apt-get install -y podman runc debootstrap" >&2; exit 1; }
done
"$PYTHON" -c 'import sys, platform; assert sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64"' \
    || { echo "error: $PYTHON must be Python 3.11 on x86_64 (the image's); set PYTHON=" >&2; exit 1; }

if ! podman image exists "$BASE"; then
    if [ ! -x "$BUILD/rootfs/usr/bin/python3" ]; then
        echo "== debootstrap: Debian bookworm with Python 3.11 into $BUILD/rootfs"
        rm -rf "$BUILD/rootfs" && mkdir -p "$BUILD"
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$BUILD/rootfs" "$MIRROR"
        rm -rf "$BUILD"/rootfs/var/cache/apt/archives/*.deb "$BUILD"/rootfs/var/lib/apt/lists/*
    fi
    echo "== importing the base image as $BASE"
    tar -C "$BUILD/rootfs" -c . | podman import --change 'CMD ["python3"]' - "$BASE"
fi

echo "== wheelhouse: the package's dependencies as wheels in $BUILD/wheels"
"$PYTHON" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
    > "$BUILD/requirements.txt"
"$PYTHON" -m pip wheel --quiet -w "$BUILD/wheels" -r "$BUILD/requirements.txt"

echo "== building $IMAGE"
podman build --runtime runc --pull=never -f docker/Dockerfile -t "$IMAGE" --build-arg BASE_IMAGE="$BASE" \
    --volume "$PWD/$BUILD/wheels:/wheels:ro" --build-arg PIP_OPTIONS="--no-index --find-links /wheels" .
podman image ls "$IMAGE"
