#!/bin/sh
# The image's entrypoint: `python train.py "$@"`, after checking that the logs folder is writable. A host folder
# mounted there keeps its owner (often root), and the image runs as uid 1000: without this check the run
# fails deep inside Hydra with "Permission denied".
LOGS=${NOISYROBUST_LOGS:-/app/logs}
if [ -d "$LOGS" ] && ! [ -w "$LOGS" ]; then
    echo "error: $LOGS is not writable by uid $(id -u) inside the container; on the host, chown $(id -u) the folder" \
         "mounted there (or run with --user \"\$(id -u):\$(id -g)\")" >&2
    exit 1
fi
exec python train.py "$@"
