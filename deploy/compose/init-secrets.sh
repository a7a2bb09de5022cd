#!/bin/sh
# Writes the file secrets compose.yaml mounts, once: existing files are kept.
#   deploy/compose/init-secrets.sh [DIR]      (default: ./secrets, or $GANTRY_SECRETS_DIR)
#
# The database password lives in one place, postgres_password; database_url is the full URL
# built from it (Gantry reads DATABASE_URL_FILE, the db container POSTGRES_PASSWORD_FILE).
# See docs/deployment/docker.md, "Secrets".
set -eu
dir=${1:-${GANTRY_SECRETS_DIR:-./secrets}}
mkdir -p "$dir"
chmod 0700 "$dir"

random() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

write() { # name value
  if [ -s "$dir/$1" ]; then echo "kept    $dir/$1"; return; fi
  (umask 077 && printf '%s' "$2" > "$dir/$1")
  echo "created $dir/$1"
}

write gantry_master_key "sk-gantry-master-$(random 24)"
write postgres_password "$(random 24)"
write database_url "postgres://gantry:$(cat "$dir/postgres_password")@db:5432/gantry"
write grafana_admin_password "$(random 16)"

# Compose (without Swarm) bind-mounts file secrets with their host owner and mode, and the
# containers read them as non-root users (gantry 10001, postgres 999, grafana 472): the files are
# world-readable, the directory (0700) keeps other host users out.
chmod 0444 "$dir"/*
