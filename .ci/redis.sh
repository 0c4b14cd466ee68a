#!/usr/bin/env bash
# Makes `redis-server` available for the Redis store's tests (store.type: redis). Never starts a
# shared instance: each test starts its own `redis-server --port N` on a free loopback port.
set -euo pipefail
bash "$(dirname "$0")/apt-install.sh" redis-server redis-server redis-server
redis-server --version | head -1
