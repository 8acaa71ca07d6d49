#!/bin/sh
# install.sh: puts hostward on a host as the node agent or the auth service, upgrades
# it, or removes it (docs/operations.md). POSIX sh; run as root.
#
# Every check runs before anything changes; a failed check is one line on stderr and
# a non-zero exit. A second run with the same flags changes nothing and says so.
# --root DIR installs into a staging tree and never touches systemd (that is how the
# tests run it).
set -eu
# No pathname expansion anywhere: lists are split on blanks or commas, never globbed.
set -f
umask 022

PROG=install.sh
HERE=$(cd "$(dirname "$0")" && pwd -P)

usage() {
  cat <<'EOF'
usage:
  install.sh --role agent --auth-server HOST[:3025][,HOST[:3025]...] --token TOKEN --ca-pin sha256:HEX
             [--labels env=prod,team=db] [--ssh-listen 0.0.0.0:3022] [--advertise-addr HOST:PORT]
             [--diag-addr 127.0.0.1:3002|off] [--binary PATH] [--force] [--root DIR]
  install.sh --role auth [--listen 0.0.0.0:3025] [--cluster-name NAME] [--public-addr HOST:PORT]
             [--diag-addr 127.0.0.1:3001|off] [--binary PATH] [--force] [--root DIR]
  install.sh --upgrade [--role agent|auth] [--binary PATH] [--root DIR]
  install.sh --uninstall [--role agent|auth] [--purge] [--root DIR]

  --role          what this host runs: the node agent or the auth service
  --auth-server   the auth service the agent joins (ctl tokens add prints the whole line);
                  several replicas separated by commas: the agent moves to the next when one fails
  --token         a join token from `hostward ctl tokens add`
  --ca-pin        the auth service's CA pin; checked against the server before anything changes
  --labels        node labels, KEY=VALUE separated by commas
  --binary        the hostward binary to install (default: build dist/hostward in this checkout)
  --force         replace an existing /etc/hostward/<role>.toml
  --upgrade       replace the binary and restart the installed hostward services
  --uninstall     stop and remove the service and the binary; config and data stay
  --purge         with --uninstall: also delete /etc/hostward/<role>.toml and /var/lib/hostward/<role>
  --root DIR      install into a staging tree under DIR; systemd is left alone
  --wait SECONDS  how long to wait for /readyz after starting (default 60)
EOF
}

# --- output -------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see %s --help)\n' "$PROG" "$*" "$PROG" >&2; exit 2; }

# --- flags ----------------------------------------------------------------------------

ROLE='' AUTH_SERVER='' TOKEN='' CA_PIN='' LABELS='' BINARY='' ROOT_ARG='' WAIT=''
SSH_LISTEN='' ADVERTISE_ADDR='' DIAG_ADDR='' LISTEN='' CLUSTER_NAME='' PUBLIC_ADDR=''
FORCE=0 UPGRADE=0 UNINSTALL=0 PURGE=0
AGENT_FLAGS='' AUTH_FLAGS='' GIVEN=''

# set_once VAR FLAG VALUE: a flag given twice is a conflict, not "last one wins".
set_once() {
  case " $GIVEN " in *" $2 "*) usage_error "$2 given twice" ;; esac
  GIVEN="$GIVEN $2"
  eval "$1=\$3"
}

parse_flags() {
  while [ $# -gt 0 ]; do
    flag=$1 value='' inline=0
    shift
    case $flag in --*=*) value=${flag#*=} flag=${flag%%=*} inline=1 ;; esac
    case $flag in
      --role|--auth-server|--token|--ca-pin|--labels|--binary|--root|--wait|--ssh-listen|\
      --advertise-addr|--diag-addr|--listen|--cluster-name|--public-addr)
        if [ $inline = 0 ]; then
          [ $# -gt 0 ] || usage_error "$flag needs a value"
          value=$1
          shift
          case $value in -*) usage_error "$flag needs a value, got \"$value\"" ;; esac
        fi ;;
      --force|--upgrade|--uninstall|--purge|-h|--help)
        [ $inline = 0 ] || usage_error "$flag takes no value" ;;
      *) usage_error "unknown argument \"$flag\"" ;;
    esac
    case $flag in
      --role) set_once ROLE "$flag" "$value" ;;
      --auth-server) set_once AUTH_SERVER "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --token) set_once TOKEN "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --ca-pin) set_once CA_PIN "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --labels) set_once LABELS "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --ssh-listen) set_once SSH_LISTEN "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --advertise-addr) set_once ADVERTISE_ADDR "$flag" "$value"; AGENT_FLAGS="$AGENT_FLAGS $flag" ;;
      --listen) set_once LISTEN "$flag" "$value"; AUTH_FLAGS="$AUTH_FLAGS $flag" ;;
      --cluster-name) set_once CLUSTER_NAME "$flag" "$value"; AUTH_FLAGS="$AUTH_FLAGS $flag" ;;
      --public-addr) set_once PUBLIC_ADDR "$flag" "$value"; AUTH_FLAGS="$AUTH_FLAGS $flag" ;;
      --diag-addr) set_once DIAG_ADDR "$flag" "$value" ;;
      --binary) set_once BINARY "$flag" "$value" ;;
      --root) set_once ROOT_ARG "$flag" "$value" ;;
      --wait) set_once WAIT "$flag" "$value" ;;
      --force) FORCE=1 ;;
      --upgrade) UPGRADE=1 ;;
      --uninstall) UNINSTALL=1 ;;
      --purge) PURGE=1 ;;
      -h|--help) usage; exit 0 ;;
    esac
  done
}

# first_word " --a --b" -> "--a" (splitting $1 is the point)
# shellcheck disable=SC2086
first_word() { set -- $1; printf '%s' "${1:-}"; }

check_flag_combinations() {
  [ $UPGRADE = 1 ] && [ $UNINSTALL = 1 ] && usage_error "--upgrade and --uninstall conflict"
  [ $PURGE = 1 ] && [ $UNINSTALL = 0 ] && usage_error "--purge goes only with --uninstall"
  case $ROLE in
    ''|agent|auth) ;;
    *) usage_error "--role must be agent or auth, got \"$ROLE\"" ;;
  esac
  config_flags=$(first_word "$AGENT_FLAGS $AUTH_FLAGS")
  [ -n "$DIAG_ADDR" ] && config_flags=${config_flags:---diag-addr}
  if [ $UNINSTALL = 1 ] || [ $UPGRADE = 1 ]; then
    mode=--uninstall
    [ $UPGRADE = 1 ] && mode=--upgrade
    [ -n "$config_flags" ] && usage_error "$config_flags does not go with $mode (it changes only the binary and services; the config stays)"
    [ $FORCE = 1 ] && usage_error "--force does not go with $mode"
    [ $UNINSTALL = 1 ] && [ -n "$BINARY" ] && usage_error "--binary does not go with --uninstall"
    [ $UNINSTALL = 1 ] && [ -n "$WAIT" ] && usage_error "--wait does not go with --uninstall"
    return 0
  fi
  [ -n "$ROLE" ] || usage_error "--role agent or --role auth is required"
  if [ "$ROLE" = auth ] && [ -n "$AGENT_FLAGS" ]; then
    usage_error "$(first_word "$AGENT_FLAGS") is for --role agent, not --role auth"
  fi
  if [ "$ROLE" = agent ] && [ -n "$AUTH_FLAGS" ]; then
    usage_error "$(first_word "$AUTH_FLAGS") is for --role auth, not --role agent"
  fi
  return 0
}

# --- value checks -----------------------------------------------------------------------

matches() { printf '%s\n' "$1" | grep -Eq "$2"; }

HOST_RE='([A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])'
PORT_RE='([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'

# check_addr FLAG VALUE [optional-port]
check_addr() {
  if [ "${3:-}" = optional-port ]; then
    matches "$2" "^$HOST_RE(:$PORT_RE)?\$" || usage_error "$1: expected HOST or HOST:PORT, got \"$2\""
  else
    matches "$2" "^$HOST_RE:$PORT_RE\$" || usage_error "$1: expected HOST:PORT, got \"$2\""
  fi
}

check_values() {
  if [ -n "$CA_PIN" ]; then
    matches "$CA_PIN" '^sha256:[0-9A-Fa-f]{64}$' ||
      usage_error "--ca-pin: expected sha256: and 64 hex digits (ctl tokens add prints it), got \"$CA_PIN\""
    CA_PIN=$(printf '%s' "$CA_PIN" | tr 'A-F' 'a-f')
  fi
  if [ -n "$AUTH_SERVER" ]; then
    # One address or several replicas (a,b,c): each checked, each given the default port.
    ! matches "$AUTH_SERVER" '(^,|,,|,$)' || usage_error "--auth-server: an empty address in \"$AUTH_SERVER\""
    list='' old_ifs=$IFS
    IFS=,
    for one in $AUTH_SERVER; do
      check_addr --auth-server "$one" optional-port
      matches "$one" ":$PORT_RE\$" || one="$one:3025"
      case ",$list," in *",$one,"*) usage_error "--auth-server: $one is listed twice" ;; esac
      list="$list${list:+,}$one"
    done
    IFS=$old_ifs
    AUTH_SERVER=$list
  fi
  [ -z "$TOKEN" ] || matches "$TOKEN" '^[A-Za-z0-9._~+/=-]{8,200}$' ||
    usage_error "--token: not a join token (ctl tokens add prints one)"
  [ -z "$SSH_LISTEN" ] || check_addr --ssh-listen "$SSH_LISTEN"
  [ -z "$LISTEN" ] || check_addr --listen "$LISTEN"
  [ -z "$ADVERTISE_ADDR" ] || check_addr --advertise-addr "$ADVERTISE_ADDR" optional-port
  [ -z "$PUBLIC_ADDR" ] || check_addr --public-addr "$PUBLIC_ADDR" optional-port
  [ -z "$DIAG_ADDR" ] || [ "$DIAG_ADDR" = off ] || check_addr --diag-addr "$DIAG_ADDR"
  [ -z "$CLUSTER_NAME" ] || matches "$CLUSTER_NAME" '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' ||
    usage_error "--cluster-name: letters, digits and ._@- only, got \"$CLUSTER_NAME\""
  [ -z "$WAIT" ] || matches "$WAIT" '^[0-9]{1,4}$' || usage_error "--wait: expected seconds, got \"$WAIT\""
  [ -z "$LABELS" ] || check_labels "$LABELS"
  if [ -n "$ROOT_ARG" ]; then
    [ -d "$ROOT_ARG" ] || usage_error "--root $ROOT_ARG: no such directory"
    ROOT=$(cd "$ROOT_ARG" && pwd -P)
    [ "$ROOT" != / ] || usage_error "--root /: leave --root off to install on this host"
    matches "$ROOT" '^[A-Za-z0-9/._+-]+$' || usage_error "--root $ROOT_ARG: use a path without spaces or quotes"
  fi
  if [ -n "$BINARY" ]; then
    if [ ! -f "$BINARY" ] || [ ! -x "$BINARY" ]; then usage_error "--binary $BINARY: not an executable file"; fi
  fi
  return 0
}

check_labels() {
  seen=' '
  old_ifs=$IFS
  IFS=,
  for pair in $1; do
    IFS=$old_ifs
    matches "$pair" '^[A-Za-z0-9_./-]+=[^"\\,[:cntrl:]]*$' ||
      usage_error "--labels: \"$pair\" is not KEY=VALUE (keys: letters, digits and _./-; values without quotes or backslashes)"
    key=${pair%%=*}
    case $seen in *" $key "*) usage_error "--labels: \"$key\" given twice" ;; esac
    seen="$seen$key "
  done
  IFS=$old_ifs
}

# --- host checks --------------------------------------------------------------------------

check_root_user() {
  [ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0 ...)"
}

check_arch() {
  os=$(uname -s)
  arch=$(uname -m)
  [ "$os" = Linux ] || die "unsupported system $os: hostward runs on Linux"
  case $arch in
    x86_64|amd64|aarch64|arm64) ;;
    *) die "unsupported architecture $arch: hostward runs on x86_64 and aarch64" ;;
  esac
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is needed to $2; install it first"
}

# The binary to install: --binary, or dist/hostward built in this checkout, or a
# hostward (or dist/hostward) shipped next to install.sh.
find_binary() {
  if [ -n "$BINARY" ]; then
    BIN=$BINARY
    return
  fi
  if [ -f "$HERE/src/cli.ts" ] && [ -f "$HERE/package.json" ]; then
    bun=''
    if [ -x "$HERE/node_modules/.bin/bun" ]; then bun=$HERE/node_modules/.bin/bun
    elif command -v bun >/dev/null 2>&1; then bun=$(command -v bun)
    fi
    if [ -n "$bun" ]; then
      say "building $HERE/dist/hostward"
      (cd "$HERE" && "$bun" run build) >"$WORK/build.log" 2>&1 ||
        die "building dist/hostward failed: $(tail -n 1 "$WORK/build.log")"
    fi
  fi
  for candidate in "$HERE/dist/hostward" "$HERE/hostward"; do
    if [ -f "$candidate" ] && [ -x "$candidate" ]; then
      BIN=$candidate
      return
    fi
  done
  die "no hostward binary: pass --binary PATH, or run from a checkout with bun installed (npm install) to build dist/hostward"
}

# The architecture an ELF file is built for (e_machine), or nothing for a non-ELF file.
elf_arch() {
  [ "$(od -An -t x1 -N 4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ] || return 0
  case $(od -An -t x1 -j 18 -N 2 "$1" 2>/dev/null | tr -d ' \n') in
    3e00) echo x86_64 ;;
    b700) echo aarch64 ;;
    *) echo unknown ;;
  esac
}

# The binary must run here: right architecture, not truncated, not a script for another box.
check_binary_runs() {
  built=$(elf_arch "$BIN")
  here=$(uname -m)
  case $here in amd64) here=x86_64 ;; arm64) here=aarch64 ;; esac
  case $built in
    ''|"$here") ;;
    unknown) die "$BIN is not an executable for this host ($here)" ;;
    *) die "$BIN is built for $built, and this host is $here" ;;
  esac
  timeout=''
  if command -v timeout >/dev/null 2>&1; then timeout='timeout 30'; fi
  if out=$($timeout "$BIN" version 2>&1); then status=0; else status=$?; fi
  case $out in
    'hostward '*) BIN_VERSION=$(printf '%s\n' "$out" | head -n 1); return ;;
  esac
  first=$(printf '%s\n' "$out" | sed -e '1s/^timeout: //' -e q)
  [ "$status" != 0 ] || die "$BIN is not hostward: \`$BIN version\` printed \"$first\""
  die "$BIN does not run on this host: ${first:-\`$BIN version\` exited with status $status}"
}

# Fetches each listed auth replica's CA without verification and accepts it only if the
# CA's SubjectPublicKeyInfo hashes to the pin (what the agent itself does on join). A
# replica that answers with another CA stops the install; one that cannot be reached is
# said and skipped, as long as one of them answers (the agent moves between them).
check_auth_server() {
  need curl "reach the auth server"
  need openssl "check the CA pin"
  reached='' unreached='' old_ifs=$IFS
  IFS=,
  for server in $AUTH_SERVER; do
    IFS=$old_ifs
    if check_one_auth_server "$server"; then reached="$reached${reached:+, }$server"; else unreached="$unreached${unreached:+; }$UNREACHED_WHY"; fi
    IFS=,
  done
  IFS=$old_ifs
  [ -n "$reached" ] || die "$unreached"
  [ -z "$unreached" ] || say "warning: $unreached (the agent will use it when it answers)"
  say "auth server $reached answers and its CA matches the pin"
}

# 0 when $1 answers with the pinned CA; 1 (reason in UNREACHED_WHY) when it cannot be reached; dies otherwise.
check_one_auth_server() {
  if ! curl -sS -k --max-time 10 -o "$WORK/ca.json" "https://$1/v1/ca" 2>"$WORK/curl.err"; then
    UNREACHED_WHY="cannot reach auth server $1: $(sed -e 's/^curl: ([0-9]*) //' "$WORK/curl.err" | head -n 1)"
    return 1
  fi
  sed -n 's/.*"ca_cert" *: *"\([^"]*\)".*/\1/p' "$WORK/ca.json" |
    awk '{ gsub(/\\n/, "\n"); printf "%s", $0 }' >"$WORK/ca.pem"
  if ! openssl x509 -in "$WORK/ca.pem" -pubkey -noout >"$WORK/ca.pub" 2>/dev/null ||
     ! openssl pkey -pubin -in "$WORK/ca.pub" -outform DER -out "$WORK/ca.spki" 2>/dev/null; then
    die "auth server $1 did not return a CA certificate at /v1/ca: is it a hostward auth service?"
  fi
  got="sha256:$(sha256_file "$WORK/ca.spki")"
  [ "$got" = "$CA_PIN" ] ||
    die "auth server $1 has CA pin $got, not $CA_PIN: refusing to trust it (compare with \`hostward ctl status\` on the auth host)"
}

sha256_file() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    openssl dgst -sha256 "$1" | sed 's/.*= *//'
  fi
}

systemd_running() {
  [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# --- changes, undone on failure -------------------------------------------------------------
#
# Every path created is remembered and every file replaced keeps a hard-linked backup
# until the run succeeds, so a failure half-way (disk full, read-only /usr) leaves the
# host as it was.

CREATED=''
BACKUPS=''
CHANGED=0
IN_CHANGES=0

on_exit() {
  status=$1
  if [ "$status" != 0 ] && [ $IN_CHANGES = 1 ]; then
    undo_changes
    printf '%s: failed; the changes above were undone\n' "$PROG" >&2
  fi
  for b in $BACKUPS; do rm -f "$b"; done
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
}

undo_changes() {
  for b in $BACKUPS; do mv -f "$b" "${b%.hostward-old}"; done
  BACKUPS=''
  for p in $CREATED; do
    if [ -d "$p" ]; then rmdir "$p" 2>/dev/null || true; else rm -f "$p"; fi
  done
}

remember_created() { CREATED="$1 $CREATED"; }

# ensure_dir DIR MODE: creates missing levels (only the last gets MODE); fixes the mode of
# an existing last level only when MODE is restrictive (never chmods /usr/local/bin & co).
ensure_dir() {
  if [ -d "$1" ]; then
    if [ "$2" = 0700 ] && [ "$(stat -c %a "$1")" != 700 ]; then
      chmod 0700 "$1"
      say "set mode 0700 on $1"
      CHANGED=1
    fi
    return
  fi
  ensure_dir "$(dirname "$1")" 0755
  mkdir -m "$2" "$1"
  remember_created "$1"
  say "created $1 (mode $2)"
  CHANGED=1
}

# put_file SRC DEST MODE: atomic replace; echoes nothing, sets PUT to new|replaced|same.
put_file() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    PUT=same
    if [ "$(stat -c %a "$2")" != "${3#0}" ]; then chmod "$3" "$2"; PUT=mode; CHANGED=1; fi
    return
  fi
  tmp="$2.hostward-new"
  cp "$1" "$tmp"
  chmod "$3" "$tmp"
  if [ -e "$2" ]; then
    ln -f "$2" "$2.hostward-old"
    BACKUPS="$2.hostward-old $BACKUPS"
    PUT=replaced
  else
    remember_created "$2"
    PUT=new
  fi
  mv -f "$tmp" "$2"
  CHANGED=1
}

# --- config files ---------------------------------------------------------------------------

toml_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }

labels_inline() {
  [ -n "$LABELS" ] || { printf '{}'; return; }
  out=''
  old_ifs=$IFS
  IFS=,
  for pair in $LABELS; do
    out="$out${out:+, }$(toml_string "${pair%%=*}") = $(toml_string "${pair#*=}")"
  done
  IFS=$old_ifs
  printf '{ %s }' "$out"
}

diag_value() {
  case $DIAG_ADDR in
    off) printf '""' ;;
    '') toml_string "$1" ;;
    *) toml_string "$DIAG_ADDR" ;;
  esac
}

# One replica: auth_server = "a:3025". Several: auth_servers = ["a:3025", "b:3025"].
auth_servers_line() {
  case $AUTH_SERVER in
    *,*)
      out='' old_ifs=$IFS
      IFS=,
      for one in $AUTH_SERVER; do out="$out${out:+, }$(toml_string "$one")"; done
      IFS=$old_ifs
      printf 'auth_servers = [%s]' "$out" ;;
    *) printf 'auth_server = %s' "$(toml_string "$AUTH_SERVER")" ;;
  esac
}

agent_config() {
  data_dir="$ROOT/var/lib/hostward/agent"
  cat <<EOF
# hostward node agent (keys: docs/configuration.md). Written by install.sh, which never replaces this
# file unless run with --force. Restart the agent after editing: systemctl restart hostward-agent
data_dir = $(toml_string "$data_dir")
$(auth_servers_line)
# The join token is needed only until the first successful join; from then on the
# agent proves itself with <data_dir>/identity and this line may be deleted.
join_token = $(toml_string "$TOKEN")
ca_pin = $(toml_string "$CA_PIN")
# /healthz, /readyz and /metrics over plain HTTP; "" turns them off.
diag_addr = $(diag_value 127.0.0.1:3002)
log_level = "info"

[ssh]
listen = $(toml_string "${SSH_LISTEN:-0.0.0.0:3022}")
labels = $(labels_inline)
EOF
  [ -z "$ADVERTISE_ADDR" ] || printf 'advertise_addr = %s\n' "$(toml_string "$ADVERTISE_ADDR")"
  cat <<'EOF'

[recording]
# hide_notice = false     # true: no "this session is being recorded" line
# min_free = "1GiB"       # refuse new recorded sessions below this much free disk
# sync_timeout = "30s"    # node-sync mode: close a session whose events are not durable by then
EOF
}

auth_config() {
  data_dir="$ROOT/var/lib/hostward/auth"
  cat <<EOF
# hostward auth service (keys: docs/configuration.md). Written by install.sh, which never replaces this
# file unless run with --force. Restart after editing: systemctl restart hostward-auth
data_dir = $(toml_string "$data_dir")
listen = $(toml_string "${LISTEN:-0.0.0.0:3025}")
cluster_name = $(toml_string "${CLUSTER_NAME:-hostward}")
EOF
  if [ -n "$PUBLIC_ADDR" ]; then
    printf 'public_addr = %s\n' "$(toml_string "$PUBLIC_ADDR")"
  else
    printf '# public_addr = "auth.example.com:3025"   # the address agents and ctl use, if not listen\n'
  fi
  cat <<EOF
# /healthz, /readyz and /metrics over plain HTTP; "" turns them off.
diag_addr = $(diag_value 127.0.0.1:3001)
log_level = "info"

[recordings]
# Or s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=us-east-1 (see docs/operations.md).
storage = $(toml_string "file://$data_dir/recordings")
EOF
}

# Reads a top-level string key from a TOML file we wrote (or one edited in the same shape).
toml_top_key() {
  awk -v key="$1" '
    /^[[:space:]]*\[/ { exit }
    $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
      sub("^[^=]*=[[:space:]]*\"", ""); sub("\".*$", ""); print; exit
    }' "$2"
}

# --- install ------------------------------------------------------------------------------

install_role() {
  BIN_DEST="$ROOT/usr/local/bin/hostward"
  CONF="$ROOT/etc/hostward/$ROLE.toml"
  UNIT_NAME="hostward-$ROLE.service"
  UNIT_SRC="$HERE/systemd/$UNIT_NAME"
  UNIT_DEST="$ROOT/etc/systemd/system/$UNIT_NAME"

  [ -f "$UNIT_SRC" ] || die "$UNIT_SRC is missing: run install.sh from a hostward checkout or release"
  if [ "$ROLE" = agent ]; then
    if [ ! -e "$CONF" ] || [ $FORCE = 1 ] || [ -n "$AGENT_FLAGS" ]; then
      [ -n "$AUTH_SERVER" ] || usage_error "--auth-server is required for --role agent"
      [ -n "$TOKEN" ] || usage_error "--token is required for --role agent (hostward ctl tokens add makes one)"
      [ -n "$CA_PIN" ] || usage_error "--ca-pin is required for --role agent (hostward ctl tokens add prints it)"
    fi
  fi
  find_binary
  check_binary_runs
  if [ -f "$BIN_DEST" ] && ! cmp -s "$BIN" "$BIN_DEST"; then
    die "$BIN_DEST is a different build ($("$BIN_DEST" version 2>/dev/null | head -n 1 || echo "does not run")): use --upgrade to replace it with $BIN_VERSION and restart"
  fi
  [ -z "$AUTH_SERVER" ] || check_auth_server

  if [ "$ROLE" = agent ]; then agent_config >"$WORK/config"; else auth_config >"$WORK/config"; fi
  cp "$UNIT_SRC" "$WORK/unit"

  IN_CHANGES=1
  ensure_dir "$(dirname "$BIN_DEST")" 0755
  put_file "$BIN" "$BIN_DEST" 0755
  report "$BIN_DEST" "$BIN_VERSION"
  BIN_CHANGED=$([ $PUT = same ] && echo 0 || echo 1)

  ensure_dir "$ROOT/etc/hostward" 0755
  CONF_CHANGED=0
  if [ -e "$CONF" ] && [ $FORCE = 0 ] && ! cmp -s "$WORK/config" "$CONF"; then
    if [ -n "$AGENT_FLAGS$AUTH_FLAGS$DIAG_ADDR" ]; then
      say "kept $CONF: it exists and differs from what these flags would write (--force replaces it)"
    else
      say "kept $CONF as it is (--force rewrites it from the flags)"
    fi
  else
    put_file "$WORK/config" "$CONF" 0600
    report "$CONF" "mode 0600"
    [ $PUT = same ] || CONF_CHANGED=1
  fi

  ensure_dir "$ROOT/var/lib/hostward" 0700
  ensure_dir "$ROOT/var/lib/hostward/$ROLE" 0700

  ensure_dir "$ROOT/etc/systemd/system" 0755
  put_file "$WORK/unit" "$UNIT_DEST" 0644
  report "$UNIT_DEST" ""
  UNIT_CHANGED=$([ $PUT = same ] && echo 0 || echo 1)
  IN_CHANGES=0

  if [ -n "$ROOT" ]; then
    finish "staged under $ROOT; systemd left alone (--root)"
  elif ! systemd_running; then
    finish "systemd is not running here: start the service with: $BIN_DEST $ROLE start --config $CONF"
  else
    start_service
  fi
}

report() {
  case $PUT in
    new) say "installed $1${2:+ ($2)}" ;;
    replaced) say "replaced $1${2:+ ($2)}" ;;
    mode) say "set mode on $1${2:+ ($2)}" ;;
    same) ;;
  esac
}

finish() {
  if [ $CHANGED = 0 ]; then
    say "hostward $ROLE is already installed; nothing changed"
  fi
  say "$1"
}

# Enables and starts the unit, restarting it when its binary, config or unit changed.
start_service() {
  [ "$UNIT_CHANGED" = 0 ] || systemctl daemon-reload
  if ! systemctl is-enabled --quiet "$UNIT_NAME" 2>/dev/null; then
    systemctl enable --now "$UNIT_NAME"
    say "enabled and started $UNIT_NAME"
    CHANGED=1
  elif ! systemctl is-active --quiet "$UNIT_NAME"; then
    systemctl start "$UNIT_NAME"
    say "started $UNIT_NAME"
    CHANGED=1
  elif [ "$BIN_CHANGED" = 1 ] || [ "$CONF_CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
    say "restarting $UNIT_NAME to apply the changes$(restart_note "$ROLE")"
    systemctl restart "$UNIT_NAME"
  fi
  [ $CHANGED = 1 ] || say "hostward $ROLE is already installed and running; nothing changed"
  wait_ready "$ROLE"
}

restart_note() {
  if [ "$1" = agent ]; then printf ' (live SSH sessions on this host end)'; else printf ' (agents reconnect by themselves)'; fi
}

# Polls /readyz on the unit's diag_addr, then prints what the node or service is.
wait_ready() {
  role=$1
  conf="/etc/hostward/$role.toml"
  unit="hostward-$role.service"
  diag=$(toml_top_key diag_addr "$conf")
  data=$(toml_top_key data_dir "$conf")
  data=${data:-/var/lib/hostward/$role}
  if [ -z "$diag" ]; then
    say "diag_addr is off in $conf: not waiting for /readyz; check: systemctl status $unit"
    return
  fi
  diag=$(printf '%s' "$diag" | sed -e 's/^0\.0\.0\.0:/127.0.0.1:/' -e 's/^\[::\]:/[::1]:/')
  deadline=$(( $(date +%s) + ${WAIT:-60} ))
  last=''
  while :; do
    if last=$(curl -fsS --max-time 2 "http://$diag/readyz" 2>&1); then break; fi
    [ "$(date +%s)" -lt "$deadline" ] ||
      die "$unit is not ready after ${WAIT:-60}s ($(systemctl is-active "$unit" 2>/dev/null || true); /readyz: $(printf '%s' "$last" | head -n 1)); see: journalctl -u $unit -n 50"
    sleep 1
  done
  if [ "$role" = agent ]; then
    say "$unit is ready: node $(cat "$data/host_uuid" 2>/dev/null || echo '?') joined $(toml_top_key auth_server "$conf")"
  else
    say "$unit is ready:"
    /usr/local/bin/hostward ctl --identity "$data/admin.identity" status || true
    say "Add a host: hostward ctl tokens add   (prints the install.sh line to run on it)"
  fi
}

# --- upgrade --------------------------------------------------------------------------------

# Auth first, so that on --upgrade the agents it restarts find it up.
installed_roles() {
  for r in auth agent; do
    [ ! -f "$ROOT/etc/systemd/system/hostward-$r.service" ] || printf '%s ' "$r"
  done
}

upgrade() {
  BIN_DEST="$ROOT/usr/local/bin/hostward"
  [ -f "$BIN_DEST" ] || die "hostward is not installed at $BIN_DEST: run without --upgrade to install it"
  roles=$(installed_roles)
  if [ -n "$ROLE" ]; then
    case " $roles " in *" $ROLE "*) ;; *) die "hostward-$ROLE.service is not installed: run without --upgrade to install it" ;; esac
    roles=$ROLE
  fi
  for r in $roles; do [ -f "$HERE/systemd/hostward-$r.service" ] || die "$HERE/systemd/hostward-$r.service is missing"; done
  find_binary
  check_binary_runs

  IN_CHANGES=1
  put_file "$BIN" "$BIN_DEST" 0755
  report "$BIN_DEST" "$BIN_VERSION"
  units_changed=0
  for r in $roles; do
    put_file "$HERE/systemd/hostward-$r.service" "$ROOT/etc/systemd/system/hostward-$r.service" 0644
    report "$ROOT/etc/systemd/system/hostward-$r.service" ""
    [ $PUT = same ] || units_changed=1
  done
  IN_CHANGES=0

  if [ $CHANGED = 0 ]; then
    say "$BIN_DEST is already $BIN_VERSION; nothing changed"
    return
  fi
  if [ -n "$ROOT" ]; then
    say "staged under $ROOT; systemd left alone (--root)"
    return
  fi
  systemd_running || { say "systemd is not running here: restart hostward yourself"; return; }
  [ $units_changed = 0 ] || systemctl daemon-reload
  for r in $roles; do
    if systemctl is-active --quiet "hostward-$r.service"; then
      say "restarting hostward-$r.service$(restart_note "$r")"
      systemctl restart "hostward-$r.service"
      wait_ready "$r"
    else
      say "hostward-$r.service is not running; left stopped"
    fi
  done
}

# --- uninstall ------------------------------------------------------------------------------

uninstall() {
  roles=${ROLE:-agent auth}
  removed=0
  for r in $roles; do
    unit="hostward-$r.service"
    unit_file="$ROOT/etc/systemd/system/$unit"
    [ -f "$unit_file" ] || continue
    if systemd_running; then
      systemctl disable --now "$unit"
      say "stopped and disabled $unit"
    fi
    rm -f "$unit_file"
    say "removed $unit_file"
    removed=1
    if systemd_running; then
      systemctl daemon-reload
      systemctl reset-failed "$unit" 2>/dev/null || true
    fi
  done

  bin="$ROOT/usr/local/bin/hostward"
  still=$(installed_roles)
  if [ -f "$bin" ]; then
    if [ -n "$still" ]; then
      say "kept $bin: hostward-$(first_word "$still").service still uses it"
    else
      rm -f "$bin"
      say "removed $bin"
      removed=1
    fi
  fi

  for r in $roles; do
    conf="$ROOT/etc/hostward/$r.toml"
    data="$ROOT/var/lib/hostward/$r"
    uuid=''
    [ "$r" != agent ] || [ ! -f "$data/host_uuid" ] || uuid=$(cat "$data/host_uuid")
    if [ $PURGE = 1 ]; then
      if [ -e "$conf" ]; then rm -f "$conf"; say "removed $conf"; removed=1; fi
      if [ -e "$data" ]; then rm -rf "$data"; say "removed $data"; removed=1; fi
    else
      kept=''
      [ ! -e "$conf" ] || kept="$conf"
      [ ! -e "$data" ] || kept="$kept${kept:+ and }$data"
      [ -z "$kept" ] || say "kept $kept (--purge deletes them)"
    fi
    [ -z "$uuid" ] || say "node $uuid stays registered in the cluster: take it out with: hostward ctl lock --server-id $uuid"
  done
  if [ $PURGE = 1 ]; then
    for d in "$ROOT/etc/hostward" "$ROOT/var/lib/hostward"; do
      if [ -d "$d" ] && rmdir "$d" 2>/dev/null; then say "removed $d"; fi
    done
  fi
  [ $removed = 1 ] || say "hostward${ROLE:+ $ROLE} is not installed here; nothing to do"
}

# --- main -----------------------------------------------------------------------------------

main() {
  parse_flags "$@"
  check_flag_combinations
  ROOT=''
  check_root_user
  check_values
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/hostward-install.XXXXXX")
  trap 'on_exit $?' EXIT
  trap 'exit 130' INT TERM HUP
  if [ $UNINSTALL = 1 ]; then
    uninstall
    return
  fi
  check_arch
  if [ $UPGRADE = 1 ]; then upgrade; else install_role; fi
}

main "$@"
