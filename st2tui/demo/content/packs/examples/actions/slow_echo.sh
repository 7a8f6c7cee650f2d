#!/usr/bin/env bash
# examples.slow-echo: print a timestamped line every second for $1 seconds.
# Arguments arrive positionally, as st2's local-shell-script runner passes parameters with a
# `position`: seconds, message.

SECONDS_TOTAL=${1:-10}
MESSAGE=${2:-tick}

for ((i = 1; i <= SECONDS_TOTAL; i++)); do
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) [${i}/${SECONDS_TOTAL}] ${MESSAGE}"
    if ((i % 5 == 0)); then
        echo "progress: ${i} of ${SECONDS_TOTAL} lines printed" >&2
    fi
    if ((i < SECONDS_TOTAL)); then
        sleep 1
    fi
done
