#!/usr/bin/env bash
# First run with something real to look at: a Prometheus and a node exporter on loopback (an
# existing one reused, else Debian's packages started here, installed first when missing and
# root), the server pointed at it, its tools listed and a first query answered.
#
#   scripts/dev first-run          (or, with Node >= 22 and pnpm on PATH: pnpm build && scripts/first-run.sh)
#   scripts/first-run.sh stop      stop the Prometheus and node exporter this script started
#
# Reuse order: $PROMETHEUS_URL if set; a Prometheus answering at $INFRA_MCP_FIRST_RUN_PROBE
# (default http://127.0.0.1:9090); the pair this script started before; else start a new pair.
# State (config, TSDB, pids, audit log): $INFRA_MCP_FIRST_RUN_DIR (default ~/.local/state/infra-mcp/first-run).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${INFRA_MCP_FIRST_RUN_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/infra-mcp/first-run}
probe=${INFRA_MCP_FIRST_RUN_PROBE:-http://127.0.0.1:9090}
cli="$root/apps/server/dist/cli.js"
say() { printf 'first-run: %s\n' "$*" >&2; }

# An HTTP GET from Node (no curl needed): prints the body, fails on a non-2xx or no answer.
get() { node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(async r=>{const t=await r.text();if(!r.ok)process.exit(1);process.stdout.write(t)},()=>process.exit(1))' "$1"; }
# A pid file whose process runs (a zombie, exited but not yet reaped, does not count).
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$(cat "$1")/stat" 2>/dev/null; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

if [ "${1:-}" = stop ]; then
  for p in prometheus exporter; do
    if alive "$state/$p.pid"; then
      kill "$(cat "$state/$p.pid")"
      for _ in $(seq 1 100); do alive "$state/$p.pid" || break; sleep 0.1; done
      say "stopped $p (pid $(cat "$state/$p.pid"))"
    fi
    rm -f "$state/$p.pid"
  done
  exit 0
fi

[ -f "$cli" ] || { say "$cli is missing: run pnpm build first (scripts/dev first-run does)"; exit 1; }

configure_hint() {
  cat >&2 <<EOF
first-run: $1
  To see real answers, point the server at a Prometheus you can reach:
    PROMETHEUS_URL=http://prometheus.example:9090 scripts/dev first-run
  or install a local one (Debian/Ubuntu) and run this again:
    sudo apt-get install prometheus prometheus-node-exporter
  or write infra-mcp.yaml:  plugins: { prometheus: { url: "http://127.0.0.1:9090" } }
EOF
}

find_bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/bin/$1" ] && echo "/usr/bin/$1"; } || true; }

url=${PROMETHEUS_URL:-}
if [ -n "$url" ]; then
  say "using PROMETHEUS_URL=$url"
elif get "$probe/-/ready" >/dev/null 2>&1; then
  url=$probe
  say "reusing the Prometheus answering at $url"
elif alive "$state/prometheus.pid" && [ -f "$state/url" ] && get "$(cat "$state/url")/-/ready" >/dev/null 2>&1; then
  url=$(cat "$state/url")
  say "reusing the Prometheus started before at $url (stop it: scripts/first-run.sh stop)"
else
  prom=$(find_bin prometheus)
  exporter=$(find_bin prometheus-node-exporter)
  if [ -z "$prom" ] || [ -z "$exporter" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian's prometheus and prometheus-node-exporter"
      export DEBIAN_FRONTEND=noninteractive
      apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus prometheus-node-exporter >&2
      prom=$(find_bin prometheus)
      exporter=$(find_bin prometheus-node-exporter)
    else
      configure_hint "no Prometheus answers at $probe, and prometheus / prometheus-node-exporter are not installed (installing them needs root and apt-get)."
      exit 1
    fi
  fi
  mkdir -p "$state/tsdb"
  prom_port=$(free_port)
  exp_port=$(free_port)
  cat >"$state/prometheus.yml" <<EOF
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ['127.0.0.1:$prom_port'] }]
  - job_name: node
    static_configs: [{ targets: ['127.0.0.1:$exp_port'] }]
EOF
  nohup "$exporter" --web.listen-address="127.0.0.1:$exp_port" >"$state/exporter.log" 2>&1 &
  echo $! >"$state/exporter.pid"
  nohup "$prom" --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1d --log.level=warn \
    >"$state/prometheus.log" 2>&1 &
  echo $! >"$state/prometheus.pid"
  url="http://127.0.0.1:$prom_port"
  echo "$url" >"$state/url"
  started=1
  say "started Prometheus at $url and a node exporter at 127.0.0.1:$exp_port (logs in $state; stop: scripts/first-run.sh stop)"
fi

# A pair started just now: wait until both targets have been scraped (at most ~40 s), so the first
# query has the whole answer.
if [ "${started:-}" = 1 ]; then
  for _ in $(seq 1 80); do
    if get "$url/api/v1/query?query=count(up==1)" 2>/dev/null | grep -q ',"2"\]'; then break; fi
    sleep 0.5
  done
fi

export PROMETHEUS_URL=$url
export INFRA_MCP_AUDIT_FILE=${INFRA_MCP_AUDIT_FILE:-$state/audit.jsonl}
mkdir -p "$state"
echo "\$ PROMETHEUS_URL=$url infra-mcp tools"
node "$cli" tools
echo
echo "\$ PROMETHEUS_URL=$url infra-mcp call prometheus_query '{\"query\":\"up\"}'"
if ! node "$cli" call prometheus_query '{"query":"up"}'; then
  configure_hint "the first query failed (above)."
  exit 1
fi
cat <<EOF

Next: run the server for your MCP client. Claude Desktop (claude_desktop_config.json):
  { "mcpServers": { "infra": { "command": "$(command -v node)", "args": ["$cli", "--read-only"],
                               "env": { "PROMETHEUS_URL": "$url" } } } }
EOF
