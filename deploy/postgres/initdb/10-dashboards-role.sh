#!/bin/sh
# The read-only role dashboards connect as (Grafana's data source), so that no dashboard can change the ledger.
# The postgres image runs this once, when it initialises an empty data volume, as the database's owner
# ($POSTGRES_USER). To add the role to an existing ledger later:
#   docker compose exec -e DASHBOARDS_DB_PASSWORD=... postgres sh /docker-entrypoint-initdb.d/10-dashboards-role.sh
# It may run again at any time: it creates what is missing and sets the password.
#
# Tables the migrations create later are covered by default privileges of the owner: the role reads every
# ledger table (docs/tables.md says which columns may hold personal data) and can write none, nor create any.
# (No `set -u`: the image sources a script that has lost its executable bit, and the option would stay on.)

reader="${DASHBOARDS_DB_USER:-dashboards}"

if [ -z "${DASHBOARDS_DB_PASSWORD:-}" ]; then
    echo "DASHBOARDS_DB_PASSWORD is not set: no role '$reader' for dashboards was created" >&2
else
    psql --no-psqlrc --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
        --set=reader="$reader" --set=password="$DASHBOARDS_DB_PASSWORD" \
        --set=owner="$POSTGRES_USER" --set=dbname="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I', :'reader') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'reader')
\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'reader', :'password')
\gexec
GRANT CONNECT ON DATABASE :"dbname" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL
    [ $? -eq 0 ] || { echo "could not set up the role '$reader' for dashboards" >&2; exit 1; }
    echo "role '$reader' reads the ledger $POSTGRES_DB (read-only)"
fi
