#!/usr/bin/env bash
# Install edge-agent as a supervised systemd service on Raspberry Pi OS.
#
#   sudo deploy/install.sh [--enable-uart] [--enable-spi] [--no-start]
#   sudo deploy/install.sh --uninstall [--purge]
#   deploy/install.sh --prefix DIR      # everything below DIR, no root changes
#   deploy/install.sh --dry-run         # print what would be done
#
# Idempotent: running it again with the same checkout changes nothing; after
# `git pull` it reinstalls the package and restarts the service. It never
# overwrites an existing /etc/edge-agent/edge-agent.toml.
#
# Environment (mostly for CI and development):
#   EDGE_AGENT_PYTHON      interpreter for the venv (default /usr/bin/python3;
#                          under --prefix the python3 on PATH)
#   EDGE_AGENT_VENV_ARGS   extra `python -m venv` arguments
#   EDGE_AGENT_PIP_ARGS    extra `pip install` arguments, e.g. "--no-deps
#                          --no-build-isolation" when the dependencies are
#                          provided another way
#   EDGE_AGENT_OS_RELEASE  os-release file to judge the OS by (/etc/os-release)
#   EDGE_AGENT_ARCH        architecture to judge instead of the machine's

set -euo pipefail

SERVICE=edge-agent
USER_NAME=edge-agent
HW_GROUPS=(dialout gpio spi)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"

PREFIX=""
DRY_RUN=0
UNINSTALL=0
PURGE=0
ENABLE_UART=0
ENABLE_SPI=0
START=1
APT=1
PYTHON="${EDGE_AGENT_PYTHON:-}"
EXAMPLE_CONFIG="$REPO/deploy/edge-agent.example.toml"

usage() {
    cat <<'EOF'
Usage: deploy/install.sh [OPTIONS]

Installs edge-agent into /opt/edge-agent/venv, an example config into
/etc/edge-agent/ (never overwriting one), the systemd unit, the edge-agent
user and its hardware groups, then enables and starts the service.

Options:
  --enable-uart        enable the UART and disable the serial login console
                       (raspi-config nonint do_serial_hw 0 / do_serial_cons 1)
  --enable-spi         enable SPI (raspi-config nonint do_spi 0)
  --no-start           install and enable, but do not start the service
  --no-apt             do not apt-get install python3-venv (and python3-lgpio)
  --python PATH        interpreter for the venv (default /usr/bin/python3)
  --example-config F   config copied to /etc/edge-agent/edge-agent.toml when
                       there is none (default deploy/edge-agent.example.toml)
  --prefix DIR         install everything below DIR; no users, groups, apt,
                       raspi-config or systemctl (for tests and packaging)
  --dry-run            print what would be done, change nothing
  --uninstall          stop and remove the service and /opt/edge-agent;
                       keeps /etc/edge-agent and /var/lib/edge-agent
  --purge              with --uninstall: also remove config, state and the user
  -h, --help           this text
EOF
}

die() {
    echo "install.sh: error: $*" >&2
    exit 1
}
say() { echo "==> $*"; }
note() { echo "    $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
    --prefix)
        [ $# -ge 2 ] || die "--prefix needs a directory"
        PREFIX="$2"
        shift
        ;;
    --prefix=*) PREFIX="${1#--prefix=}" ;;
    --python)
        [ $# -ge 2 ] || die "--python needs a path"
        PYTHON="$2"
        shift
        ;;
    --example-config)
        [ $# -ge 2 ] || die "--example-config needs a file"
        EXAMPLE_CONFIG="$2"
        shift
        ;;
    --dry-run) DRY_RUN=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --enable-uart) ENABLE_UART=1 ;;
    --enable-spi) ENABLE_SPI=1 ;;
    --no-start) START=0 ;;
    --no-apt) APT=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge only makes sense with --uninstall"

if [ -n "$PREFIX" ]; then
    [ "$DRY_RUN" = 1 ] || mkdir -p "$PREFIX"
    PREFIX="$(cd "$PREFIX" 2>/dev/null && pwd || echo "$PREFIX")"
    SYSTEM=0 # no root changes to this machine
else
    SYSTEM=1
fi

OPT_DIR="$PREFIX/opt/edge-agent"
VENV="$OPT_DIR/venv"
STAMP="$OPT_DIR/install-stamp"
ETC_DIR="$PREFIX/etc/edge-agent"
CONFIG="$ETC_DIR/edge-agent.toml"
STATE_DIR="$PREFIX/var/lib/edge-agent"
UNIT_DIR="$PREFIX/etc/systemd/system"
UNIT="$UNIT_DIR/$SERVICE.service"
BIN_LINK="$PREFIX/usr/local/bin/edge-agent"
# What the running system sees, whatever the prefix (for messages).
LIVE_CONFIG=/etc/edge-agent/edge-agent.toml

# run CMD...: execute, or print under --dry-run.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        echo "+ $*"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------------------
# Preflight: refuse clearly on what cannot work.

check_platform() {
    local os_release="${EDGE_AGENT_OS_RELEASE:-/etc/os-release}"
    [ -r "$os_release" ] || die "cannot read $os_release: is this Raspberry Pi OS or Debian?"
    local ID="" ID_LIKE="" VERSION_ID="" PRETTY_NAME=""
    # shellcheck disable=SC1090
    eval "$(grep -E '^(ID|ID_LIKE|VERSION_ID|PRETTY_NAME)=' "$os_release")"
    local family=" $ID $ID_LIKE "
    case "$family" in
    *" debian "* | *" raspbian "*) ;;
    *) die "unsupported OS '${PRETTY_NAME:-$ID}': edge-agent supports Raspberry Pi OS and Debian 12 (bookworm) or 13 (trixie)" ;;
    esac
    case "$VERSION_ID" in
    12 | 13) ;;
    *) die "unsupported OS release '${PRETTY_NAME:-$ID $VERSION_ID}': edge-agent supports Raspberry Pi OS / Debian 12 (bookworm) and 13 (trixie)" ;;
    esac

    local arch="${EDGE_AGENT_ARCH:-}"
    if [ -z "$arch" ]; then
        # dpkg's architecture is the userland's: a 32-bit Raspberry Pi OS runs
        # a 64-bit kernel on a Pi 4, so `uname -m` alone would say aarch64.
        if command -v dpkg >/dev/null 2>&1; then
            arch="$(dpkg --print-architecture)"
        else
            arch="$(uname -m)"
        fi
    fi
    case "$arch" in
    arm64 | aarch64) ARCH=aarch64 ;;
    amd64 | x86_64)
        ARCH=x86_64
        note "x86_64: fine for development; a node in the field is a 64-bit Raspberry Pi"
        ;;
    armhf | armel | armv6l | armv7l | armv8l)
        die "unsupported architecture '$arch': this is 32-bit Raspberry Pi OS, and river has no 32-bit ARM wheels. Flash 'Raspberry Pi OS (64-bit)' (Pi 3, 4, 5, Zero 2 W) and run this again."
        ;;
    *) die "unsupported architecture '$arch': edge-agent supports aarch64 (64-bit Raspberry Pi OS) and x86_64 for development" ;;
    esac
}

check_raspi_config() {
    if { [ "$ENABLE_UART" = 1 ] || [ "$ENABLE_SPI" = 1 ]; } && [ "$SYSTEM" = 1 ] &&
        ! command -v raspi-config >/dev/null 2>&1; then
        die "raspi-config not found: --enable-uart/--enable-spi need Raspberry Pi OS (elsewhere, enable the UART/SPI in config.txt by hand and run without these options)"
    fi
}

pick_python() {
    if [ -z "$PYTHON" ]; then
        if [ "$SYSTEM" = 1 ]; then PYTHON=/usr/bin/python3; else PYTHON="$(command -v python3 || true)"; fi
    fi
    if [ -z "$PYTHON" ] || [ ! -x "$PYTHON" ]; then die "no Python interpreter at '${PYTHON:-python3}' (install python3, or pass --python PATH)"; fi
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); edge-agent needs 3.11 or newer (Debian 12 or later)"
}

# ---------------------------------------------------------------------------
# Steps, each safe to repeat.

install_apt_packages() {
    [ "$SYSTEM" = 1 ] && [ "$APT" = 1 ] || return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    local pkgs=(python3-venv)
    # lgpio is the pin factory that works on every Pi (and the only one on a
    # Pi 5); the venv sees Debian's build through --system-site-packages.
    if [ "$ARCH" = aarch64 ]; then pkgs+=(python3-lgpio); fi
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    say "installing ${missing[*]} with apt-get"
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

create_user_and_groups() {
    if [ "$SYSTEM" = 0 ]; then
        note "skipped under --prefix: groups ${HW_GROUPS[*]}, user $USER_NAME"
        return 0
    fi
    local g
    for g in "${HW_GROUPS[@]}"; do
        if ! getent group "$g" >/dev/null; then
            say "creating group $g"
            run groupadd --system "$g"
        fi
    done
    if ! id -u "$USER_NAME" >/dev/null 2>&1; then
        say "creating system user $USER_NAME"
        run useradd --system --user-group --home-dir /var/lib/edge-agent --no-create-home \
            --shell /usr/sbin/nologin --comment "edge-agent hazard node" "$USER_NAME"
    fi
    local have
    have=" $(id -nG "$USER_NAME" 2>/dev/null || true) "
    for g in "${HW_GROUPS[@]}"; do
        case "$have" in
        *" $g "*) ;;
        *) run usermod -a -G "$g" "$USER_NAME" ;;
        esac
    done
}

# The files pip builds the package from; their hash decides whether to reinstall.
source_files() {
    (
        cd "$REPO"
        for f in pyproject.toml README.md LICENSE setup.cfg setup.py MANIFEST.in; do
            [ -f "$f" ] && echo "$f"
        done
        find edge_agent drivers rules -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | LC_ALL=C sort
    )
}

source_stamp() {
    {
        "$PYTHON" -c 'import sys; print(sys.version)'
        echo "venv-args: ${EDGE_AGENT_VENV_ARGS:-}"
        echo "pip-args: ${EDGE_AGENT_PIP_ARGS:-}"
        (cd "$REPO" && source_files | xargs -d '\n' sha256sum)
    } | sha256sum | cut -d' ' -f1
}

install_venv() {
    local venv_args=()
    # Debian's python3-lgpio lives in the system site-packages.
    if [ "$SYSTEM" = 1 ]; then venv_args+=(--system-site-packages); fi
    # shellcheck disable=SC2206
    venv_args+=(${EDGE_AGENT_VENV_ARGS:-})
    local stamp
    stamp="$(source_stamp)"
    if [ -x "$VENV/bin/edge-agent" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ] &&
        "$VENV/bin/edge-agent" --version >/dev/null 2>&1; then
        say "edge-agent in $VENV is up to date"
        return 0
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating venv $VENV"
        run mkdir -p "$OPT_DIR"
        run "$PYTHON" -m venv "${venv_args[@]}" "$VENV"
    fi
    say "installing edge-agent from $REPO into $VENV"
    # Build from a copy: pip's in-tree build would leave build/ and *.egg-info
    # (root-owned under sudo) in the user's checkout.
    local src
    src="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$src'" EXIT
    (cd "$REPO" && source_files | while IFS= read -r f; do
        mkdir -p "$src/$(dirname "$f")" && cp -p "$f" "$src/$f"
    done)
    # shellcheck disable=SC2086
    run "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        ${EDGE_AGENT_PIP_ARGS:-} "$src"
    rm -rf "$src"
    trap - EXIT
    if [ "$DRY_RUN" = 0 ]; then
        "$VENV/bin/edge-agent" --version >/dev/null ||
            die "the installed $VENV/bin/edge-agent does not run; see the pip output above"
        echo "$stamp" >"$STAMP"
    fi
    CHANGED=1
}

# install_file SRC DEST MODE [OWNER]: copy only when the content differs.
install_file() {
    local src="$1" dest="$2" mode="$3" owner="${4:-}"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        return 1
    fi
    local args=(-D -m "$mode")
    if [ -n "$owner" ] && [ "$SYSTEM" = 1 ]; then args+=(-o "${owner%%:*}" -g "${owner##*:}"); fi
    run install "${args[@]}" "$src" "$dest"
    return 0
}

install_docs_and_link() {
    if [ -f "$REPO/docs/install.md" ]; then
        install_file "$REPO/docs/install.md" "$OPT_DIR/docs/install.md" 0644 || true
    fi
    if [ "$(readlink "$BIN_LINK" 2>/dev/null || true)" != "/opt/edge-agent/venv/bin/edge-agent" ] &&
        [ "$SYSTEM" = 1 ]; then
        run ln -sfn /opt/edge-agent/venv/bin/edge-agent "$BIN_LINK"
    elif [ "$SYSTEM" = 0 ] && [ "$(readlink "$BIN_LINK" 2>/dev/null || true)" != "$VENV/bin/edge-agent" ]; then
        run mkdir -p "$(dirname "$BIN_LINK")"
        run ln -sfn "$VENV/bin/edge-agent" "$BIN_LINK"
    fi
}

install_config() {
    run mkdir -p "$ETC_DIR"
    if [ -e "$CONFIG" ]; then
        say "keeping the existing $CONFIG"
    else
        [ -f "$EXAMPLE_CONFIG" ] || die "example config $EXAMPLE_CONFIG is missing from this checkout"
        say "installing the example config as $CONFIG: edit it for this site"
        install_file "$EXAMPLE_CONFIG" "$CONFIG" 0640 "root:$USER_NAME" || true
    fi
    # systemd refuses to start a unit whose LoadCredential= file is missing:
    # create them empty (= not used), readable by root only.
    local cred
    for cred in mqtt.password signing.key operator.key; do
        if [ ! -e "$ETC_DIR/$cred" ]; then
            run install -m 0600 /dev/null "$ETC_DIR/$cred"
        fi
    done
}

install_unit() {
    if install_file "$REPO/deploy/systemd/$SERVICE.service" "$UNIT" 0644; then
        say "installed $UNIT"
        CHANGED=1
        UNIT_CHANGED=1
    fi
}

have_systemd() { [ -d /run/systemd/system ]; }

enable_interfaces() {
    [ "$ENABLE_UART" = 1 ] || [ "$ENABLE_SPI" = 1 ] || return 0
    if [ "$SYSTEM" = 0 ]; then
        note "skipped under --prefix: raspi-config"
        return 0
    fi
    if [ "$ENABLE_UART" = 1 ]; then
        # 0 means "enable" in raspi-config's nonint mode. The serial console
        # must be off, or the kernel talks to the sensor.
        if [ "$(raspi-config nonint get_serial_hw 2>/dev/null || echo 1)" != 0 ] ||
            [ "$(raspi-config nonint get_serial_cons 2>/dev/null || echo 0)" != 1 ]; then
            say "enabling the UART, disabling the serial console (reboot needed)"
            run raspi-config nonint do_serial_hw 0
            run raspi-config nonint do_serial_cons 1
            REBOOT=1
        fi
    fi
    if [ "$ENABLE_SPI" = 1 ] && [ "$(raspi-config nonint get_spi 2>/dev/null || echo 1)" != 0 ]; then
        say "enabling SPI (reboot needed)"
        run raspi-config nonint do_spi 0
        REBOOT=1
    fi
}

start_service() {
    if [ "$SYSTEM" = 0 ]; then
        note "skipped under --prefix: systemctl daemon-reload, enable, start"
        return 0
    fi
    if ! have_systemd; then
        note "systemd is not running here: not enabling or starting the service"
        return 0
    fi
    if [ "$UNIT_CHANGED" = 1 ]; then run systemctl daemon-reload; fi
    systemctl is-enabled --quiet "$SERVICE" 2>/dev/null || run systemctl enable "$SERVICE"
    [ "$START" = 1 ] || return 0
    if [ "$REBOOT" = 1 ]; then
        note "not starting now: reboot first so the UART/SPI changes take effect"
        return 0
    fi
    if ! "$VENV/bin/edge-agent" check-config "$CONFIG" >/dev/null 2>&1; then
        note "not starting: $CONFIG does not pass check-config yet (see next steps)"
        return 0
    fi
    if systemctl is-active --quiet "$SERVICE"; then
        if [ "$CHANGED" = 1 ]; then
            say "restarting $SERVICE"
            run systemctl restart "$SERVICE"
        fi
    else
        say "starting $SERVICE"
        run systemctl start "$SERVICE"
    fi
}

next_steps() {
    local cmd=/opt/edge-agent/venv/bin/edge-agent
    if [ "$SYSTEM" = 0 ]; then
        cmd="$VENV/bin/edge-agent"
        LIVE_CONFIG="$CONFIG"
    fi
    cat <<EOF

Next steps:
  1. Edit $LIVE_CONFIG (site_id, device_id, [mqtt], [[sensors]]) and put the
     broker password in /etc/edge-agent/mqtt.password (root only, 0600).
  2. Check the wiring of each sensor, e.g.:
       sudo -u $USER_NAME $cmd probe pms5003 --port /dev/serial0 --count 5
  3. Check the config:
       sudo -u $USER_NAME $cmd check-config $LIVE_CONFIG
  4. Start and watch:
       sudo systemctl restart $SERVICE
       systemctl status $SERVICE
       journalctl -u $SERVICE -f
       sudo -u $USER_NAME $cmd status --config $LIVE_CONFIG
EOF
    if [ "$REBOOT" = 1 ]; then echo "  Reboot first: the UART/SPI settings take effect at boot (sudo reboot)."; fi
    echo "  Guide: docs/install.md"
}

# ---------------------------------------------------------------------------

uninstall() {
    if [ "$SYSTEM" = 1 ] && have_systemd; then
        if systemctl list-unit-files "$SERVICE.service" >/dev/null 2>&1; then
            run systemctl disable --now "$SERVICE" 2>/dev/null || true
        fi
    fi
    if [ -e "$UNIT" ]; then
        say "removing $UNIT"
        run rm -f "$UNIT"
        if [ "$SYSTEM" = 1 ] && have_systemd; then run systemctl daemon-reload; fi
    fi
    if [ -L "$BIN_LINK" ]; then run rm -f "$BIN_LINK"; fi
    if [ -e "$OPT_DIR" ]; then
        say "removing $OPT_DIR"
        run rm -rf "$OPT_DIR"
    fi
    if [ "$PURGE" = 1 ]; then
        say "purging config $ETC_DIR and state $STATE_DIR"
        run rm -rf "$ETC_DIR" "$STATE_DIR"
        if [ "$SYSTEM" = 1 ] && id -u "$USER_NAME" >/dev/null 2>&1; then
            run userdel "$USER_NAME"
        fi
    else
        note "kept config $ETC_DIR and state $STATE_DIR (remove them with --uninstall --purge)"
    fi
    say "edge-agent uninstalled"
}

main() {
    if [ "$SYSTEM" = 1 ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
        die "run as root (sudo deploy/install.sh), or use --prefix DIR / --dry-run"
    fi
    CHANGED=0
    UNIT_CHANGED=0
    REBOOT=0
    if [ "$UNINSTALL" = 1 ]; then
        uninstall
        return 0
    fi
    check_platform
    check_raspi_config
    pick_python
    install_apt_packages
    create_user_and_groups
    enable_interfaces
    install_venv
    install_docs_and_link
    install_config
    install_unit
    start_service
    say "$("$VENV/bin/edge-agent" --version 2>/dev/null || echo 'edge-agent (dry run)') installed in $VENV"
    next_steps
}

main
