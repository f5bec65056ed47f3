#!/bin/sh
# Restart a clinic-bot service whose health URL has failed FAILS_BEFORE_RESTART checks in a row (a hung process
# is not restarted by systemd's Restart=, which only sees exits). Runs as root from clinic-health.service.
# The same URLs as `python -m bot status` (bot/launcher.py, health_urls).
set -u
STATE_DIR=${STATE_DIR:-/run/clinic-bot-health}
FAILS_BEFORE_RESTART=${FAILS_BEFORE_RESTART:-3}
mkdir -p "$STATE_DIR"

check() {  # unit url
    unit=$1 url=$2 count_file="$STATE_DIR/$1.fails"
    if ! systemctl is-active --quiet "$unit"; then
        rm -f "$count_file"   # starting, or given up: systemd's own restart policy is in charge
        return
    fi
    if curl --silent --fail --max-time 5 --output /dev/null "$url"; then
        rm -f "$count_file"
        return
    fi
    fails=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
    echo "$fails" > "$count_file"
    echo "clinic health: $unit did not answer $url ($fails in a row)"
    if [ "$fails" -ge "$FAILS_BEFORE_RESTART" ]; then
        echo "clinic health: restarting $unit"
        rm -f "$count_file"
        systemctl restart "$unit"
    fi
}

check clinic-actions.service "http://127.0.0.1:${ACTION_PORT:-5055}/health"
check clinic-rasa.service "http://127.0.0.1:${RASA_PORT:-5005}/"
check clinic-web.service "http://127.0.0.1:${WEB_PORT:-8000}/healthz"
