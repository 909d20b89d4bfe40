#!/usr/bin/env bash
# A/B of POST /users between two benchmark databases, alternating, for write throughput
# at two scales under the same conditions (bench/run.py must have built both):
#   bash bench/post_ab.sh users_posts_bench_10000 users_posts_bench_1000000 [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
small=$1 large=$2 rounds=${3:-2} seconds=${4:-8} port=8091
lua=$(mktemp --suffix=.lua)
trap 'rm -f "$lua"; pkill -f "gunicorn -c gunicorn.conf.py config.wsgi" || true' EXIT
for _ in $(seq "$rounds"); do
  for db in "$small" "$large"; do
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:6379/3 \
    DJANGO_SECRET_KEY=bench-only-secret-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \
    DJANGO_ENV_FILE=/dev/null API_THROTTLE_USER=100000000/min LOG_LEVEL=WARNING PORT=$port \
      .venv/bin/gunicorn -c gunicorn.conf.py config.wsgi >/dev/null 2>&1 &
    sleep 3
    token=$(curl -s -X POST "localhost:$port/auth/token" -H 'Content-Type: application/json' \
      -d '{"email":"bench-staff@example.com","password":"bench-staff-password-1"}' |
      .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["access"])')
    .venv/bin/python - "$token" "$lua" <<'PY'
import re, sys
source = open("bench/run.py").read()
script = re.search(r'POST_USERS_LUA = """(.*?)"""', source, re.S).group(1)
open(sys.argv[2], "w").write(script.replace("TOKEN", sys.argv[1]))
PY
    echo "$db: $(wrk -t2 -c32 -d"${seconds}"s -s "$lua" "http://127.0.0.1:$port/users" | grep Requests/sec)"
    kill %1 2>/dev/null || pkill -f "gunicorn -c gunicorn.conf.py config.wsgi"
    wait 2>/dev/null || true
    sleep 1
  done
done
