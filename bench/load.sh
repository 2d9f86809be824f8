#!/bin/sh
# Mixed read/write load on gunicorn (2 workers) over PostgreSQL, from loopback, with wrk.
#
#   bench/load.sh                      # gm_bench (made by bench/generate.py), 60 s, 32 connections
#   DB=gm_bench100k DURATION=60s CONNECTIONS=64 bench/load.sh
#
# Logs in once on REST (/api/v1/security/login: rate limited 10/min, so one token is reused by
# every connection) and once on the HTML form (a session cookie), then runs bench/mixed.lua:
# REST lists, REST reads by id, the HTML mine list, statistics JSON and 10 % PUTs of a mine's
# address (token-authenticated REST calls are CSRF-exempt). Needs wrk (apt-get install -y wrk)
# and gunicorn in .venv. Prints wrk's summary and a RESULT line; writes bench/results/load-$DB.json.
set -eu
cd "$(dirname "$0")/.."
DB=${DB:-gm_bench}
PORT=${PORT:-8097}
DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-2}
USER_NAME=${USER_NAME:-bench_province}
PASSWORD=${PASSWORD:-Bench#2026gm}
export DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/$DB"
BASE="http://127.0.0.1:$PORT"
TMP=$(mktemp -d)

# The production configuration (gunicorn.conf.py), with the benchmark's workers and port, no
# access log, and no worker recycling (max_requests: a worker rebuilding its app in the middle of
# the run would show as a latency spike that production spreads over hours).
GUNICORN_WORKERS="$WORKERS" GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_ACCESS_LOG=/dev/null \
  GUNICORN_ERROR_LOG="$TMP/gunicorn.log" GUNICORN_MAX_REQUESTS=0 \
  .venv/bin/gunicorn -c gunicorn.conf.py --pid "$TMP/gunicorn.pid" 'run:app' &
trap 'kill "$(cat "$TMP/gunicorn.pid")" 2>/dev/null || true; sleep 1; rm -rf "$TMP"' EXIT
for _ in $(seq 60); do curl -fs -o /dev/null "$BASE/login/" && break; sleep 0.5; done

REGION=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT region_code FROM ab_user WHERE username = '$USER_NAME'")
PREFIX=$(echo "$REGION" | sed -e 's/0000$//' -e 's/00$//')
psql -h 127.0.0.1 -U postgres -d "$DB" -Atc \
  "SELECT id FROM mine WHERE region_code LIKE '$PREFIX%' ORDER BY random() LIMIT 2000" > "$TMP/ids"
IN_SCOPE=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM mine WHERE region_code LIKE '$PREFIX%'")
export GM_IDS="$TMP/ids" GM_PAGES=$((IN_SCOPE / 25))

export GM_TOKEN=$(curl -fs -H 'Content-Type: application/json' \
  -d "{\"username\": \"$USER_NAME\", \"password\": \"$PASSWORD\", \"provider\": \"db\"}" \
  "$BASE/api/v1/security/login" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
CSRF=$(curl -fs -c "$TMP/jar" "$BASE/login/" | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | sed 's/.*value="\([^"]*\)"/\1/' | head -1)
curl -fs -b "$TMP/jar" -c "$TMP/jar" -o /dev/null --data-urlencode "username=$USER_NAME" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "csrf_token=$CSRF" "$BASE/login/"
export GM_COOKIE="session=$(awk '$6 == "session" {print $7}' "$TMP/jar")"
curl -fs -o /dev/null -H "Cookie: $GM_COOKIE" "$BASE/mineview/list/" || { echo "HTML login failed"; exit 1; }

echo "load: $DB, user $USER_NAME ($IN_SCOPE mines in scope), $WORKERS gunicorn workers, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
mkdir -p bench/results
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -s bench/mixed.lua "$BASE" \
  | tee "$TMP/wrk.txt"
grep '^RESULT' "$TMP/wrk.txt" | DB="$DB" C="$CONNECTIONS" D="$DURATION" W="$WORKERS" U="$USER_NAME" .venv/bin/python -c '
import json, os, sys, time
kv = dict(p.split("=", 1) for p in sys.stdin.read().split()[1:])
out = {"database": os.environ["DB"], "date": time.strftime("%Y-%m-%d"), "workers": int(os.environ["W"]),
       "connections": int(os.environ["C"]), "duration": os.environ["D"], "user": os.environ["U"], **kv}
json.dump(out, open("bench/results/load-%s.json" % os.environ["DB"], "w"), indent=1)'
grep -i "error\|Traceback" "$TMP/gunicorn.log" | head -5 || true
