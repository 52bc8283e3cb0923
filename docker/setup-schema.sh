#!/bin/sh
# One-shot schema job: create Temporal's two Postgres databases if missing and bring their schemas to the
# version this admin-tools image embeds (the server image never changes the schema itself). Safe to re-run:
# `create` skips a database that exists, `setup-schema -v 0.0` only initialises an empty one, and
# `update-schema` applies only the versions not yet applied.
# Runs in the temporalio/admin-tools image (temporal-sql-tool); the password comes in SQL_PASSWORD.
set -eu

: "${POSTGRES_SEEDS:=postgres}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${SQL_PASSWORD:?SQL_PASSWORD is not set}"
export SQL_PASSWORD

sql() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
    db=${pair%%:*}
    schema=${pair##*:}
    sql --db "$db" create
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema --schema-name "postgresql/v12/$schema"
    echo "database $db: schema up to date"
done
