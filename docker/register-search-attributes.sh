#!/bin/sh
# Once the Temporal server answers: create the namespace if it is missing (the server image creates none),
# then register mechbench's custom search attributes. Safe to re-run.
# Runs in the temporalio/admin-tools image (temporal CLI); TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE
# are read by the CLI itself.
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${TEMPORAL_RETENTION:=720h}"
export TEMPORAL_ADDRESS TEMPORAL_NAMESPACE

wait_for() {
    description=$1
    shift
    tries=0
    until "$@" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 150 ]; then
            echo "gave up waiting for $description after 300 s" >&2
            exit 1
        fi
        sleep 2
    done
    echo "$description: ready"
}

wait_for "Temporal at $TEMPORAL_ADDRESS" temporal operator cluster health
if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION"
    echo "namespace $TEMPORAL_NAMESPACE created (retention $TEMPORAL_RETENTION)"
fi
wait_for "namespace $TEMPORAL_NAMESPACE" temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE"

# a namespace just created takes a moment to reach every service
wait_for "search attributes of $TEMPORAL_NAMESPACE" temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE"
existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")

register() {
    name=$1
    type=$2
    if printf '%s\n' "$existing" | grep -qw -- "$name"; then
        echo "search attribute $name already registered"
        return 0
    fi
    temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
    echo "search attribute $name ($type) registered"
}

register MechbenchFamily Keyword
register MechbenchVerdict Keyword
register MechbenchStage Keyword
register MechbenchDataset Keyword
register MechbenchBenchmark Keyword
register MechbenchSeed Int
register MechbenchSubmitter Keyword
