# Put Node >= 22 and the pnpm pinned in package.json ("packageManager") on PATH, installing them
# into a cache directory with the system npm when the ones on PATH do not fit.
#
#   . scripts/toolchain.sh         # source it (bash/zsh/sh): PATH is changed in your shell
#   scripts/dev <command>          # or let scripts/dev do it for one command
#
# Cache: $INFRA_MCP_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/infra-mcp). Linux x64 and arm64
# (Node comes from the npm registry's node-linux-<arch> package, a real binary). Needs only a
# system npm (any Node), and reaches nothing but the npm registry. Already have Node >= 22 and
# the pinned pnpm? This does nothing.

_infra_mcp_toolchain() {
  _root=$(cd "$(dirname "${INFRA_MCP_TOOLCHAIN_SELF:-$1}")/.." && pwd) || return 1
  _node_min=22
  _node_pkg_major=24
  _pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"+]*\).*/\1/p' "$_root/package.json")
  [ -n "$_pnpm_version" ] || { echo "toolchain: no pnpm version in $_root/package.json packageManager" >&2; return 1; }
  _cache=${INFRA_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infra-mcp}

  _node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

  # 1. Node
  if [ "$(_node_major)" -lt "$_node_min" ]; then
    case "$(uname -m)" in
      x86_64 | amd64) _arch=x64 ;;
      aarch64 | arm64) _arch=arm64 ;;
      *) echo "toolchain: no Node build for $(uname -s) $(uname -m) here; install Node >= $_node_min yourself (https://nodejs.org)" >&2; return 1 ;;
    esac
    _os=$(uname -s | tr '[:upper:]' '[:lower:]')
    [ "$_os" = linux ] || { echo "toolchain: this installs Node on Linux only; on $_os install Node >= $_node_min yourself (https://nodejs.org)" >&2; return 1; }
    _node_bin="$_cache/node-$_arch/node_modules/node-linux-$_arch/bin"
    if [ ! -x "$_node_bin/node" ]; then
      command -v npm >/dev/null || { echo "toolchain: need npm (any Node) to install Node $_node_pkg_major; or install Node >= $_node_min yourself" >&2; return 1; }
      echo "toolchain: installing Node $_node_pkg_major (node-linux-$_arch) into $_cache/node-$_arch" >&2
      # node and pnpm go to separate prefixes: one npm install into a prefix prunes what another put there
      npm install --prefix "$_cache/node-$_arch" --no-audit --no-fund --loglevel=error \
        "node-linux-$_arch@$_node_pkg_major" >&2 || { echo "toolchain: npm install node-linux-$_arch@$_node_pkg_major failed" >&2; return 1; }
    fi
    PATH="$_node_bin:$PATH"
    export PATH
    [ "$(_node_major)" -ge "$_node_min" ] || { echo "toolchain: $_node_bin/node is not Node >= $_node_min" >&2; return 1; }
  fi

  # 2. pnpm, exactly the pinned release
  if [ "$(pnpm --version 2>/dev/null || true)" != "$_pnpm_version" ]; then
    _pnpm_bin="$_cache/pnpm-$_pnpm_version/node_modules/.bin"
    if [ ! -x "$_pnpm_bin/pnpm" ]; then
      echo "toolchain: installing pnpm $_pnpm_version into $_cache/pnpm-$_pnpm_version" >&2
      npm install --prefix "$_cache/pnpm-$_pnpm_version" --no-audit --no-fund --loglevel=error \
        "pnpm@$_pnpm_version" >&2 || { echo "toolchain: npm install pnpm@$_pnpm_version failed" >&2; return 1; }
    fi
    PATH="$_pnpm_bin:$PATH"
    export PATH
    [ "$(pnpm --version 2>/dev/null)" = "$_pnpm_version" ] || { echo "toolchain: pnpm on PATH is not $_pnpm_version" >&2; return 1; }
  fi
  unset -f _node_major
  return 0
}

# $0 is the script when run, the shell when sourced; BASH_SOURCE / ZSH names the file when sourced.
if [ -n "${BASH_SOURCE:-}" ]; then
  _infra_mcp_toolchain "${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296
  _infra_mcp_toolchain "${(%):-%x}"
else
  _infra_mcp_toolchain "$0"
fi
