#!/bin/sh
# Set up advocacy on a Debian or Ubuntu machine: the system libraries
# WeasyPrint needs, a virtual environment in .venv, and the package.
#   scripts/install.sh          install the tool (pip install .)
#   scripts/install.sh --test   install it editable with the test extras
set -eu
cd "$(dirname "$0")/.."

REQUIRED="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b"
FAST="libharfbuzz-subset0"  # WeasyPrint subsets fonts 3-4x faster with it
TEST=""
if [ "${1:-}" = "--test" ]; then
    TEST="chromium"  # the preview's browser tests drive Debian's headless chromium
    # tests/postfix.py starts a private Postfix (SASL through Dovecot's auth service)
    TEST="$TEST postfix dovecot-core"
    # tests/imapserver.py starts a private Dovecot IMAP server (advocacy inbox --imap)
    TEST="$TEST dovecot-imapd"
    # npm fetches axe-core (tests/npm/package-lock.json), the accessibility checks
    # the browser tests run in the page; Debian's npm brings Debian's nodejs along.
    command -v npm >/dev/null 2>&1 || TEST="$TEST npm"
fi
PYTHON="${PYTHON:-python3}"
# Debian and Ubuntu ship venv's pip bootstrap separately: fresh server images lack it,
# and "python3 -m venv" then fails half-way with a message about ensurepip.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    REQUIRED="$REQUIRED python3-venv"
fi

missing=""
for pkg in $REQUIRED $FAST $TEST; do
    if [ "$pkg" = python3-venv ] ||
        ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        as_root=""
        apt_get="env DEBIAN_FRONTEND=noninteractive apt-get"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root="sudo"
        apt_get="sudo env DEBIAN_FRONTEND=noninteractive apt-get"
    else
        apt_get=""
    fi
    if [ -n "$apt_get" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system libraries:$missing"
        case " $missing " in *" postfix "*)
            # No main.cf, no questions: the tests configure an instance of their own.
            echo "postfix postfix/main_mailer_type select No configuration" |
                $as_root debconf-set-selections ;;
        esac
        # shellcheck disable=SC2086
        $apt_get install -y -q --no-remove $missing >/dev/null || {
            $apt_get update -q >/dev/null &&
                $apt_get install -y -q --no-remove $missing >/dev/null
        }
        # The tests run private instances; a system-wide mail server that the
        # packages may have started (on port 25) must not be left running.
        for service in postfix dovecot; do
            case " $missing " in *" $service"*) ;; *) continue ;; esac
            if [ -d /run/systemd/system ]; then
                $as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
            elif [ -x "/etc/init.d/$service" ]; then
                $as_root "/etc/init.d/$service" stop >/dev/null 2>&1 || true
                $as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
            fi
        done
    else
        echo "advocacy needs these system libraries, which are missing:$missing" >&2
        echo "install them with: sudo apt-get install -y$missing" >&2
        for pkg in $REQUIRED; do
            case " $missing " in *" $pkg "*) exit 1 ;; esac
        done
        case " $missing " in *" $FAST "*)
            echo "(continuing without $FAST: PDFs will render 3-4 times slower)" >&2 ;;
        esac
        case " $missing " in *" chromium "*)
            echo "(continuing without chromium: the browser tests of advocacy preview will fail)" >&2 ;;
        esac
        case " $missing " in *" npm "*)
            echo "(continuing without npm: the preview's accessibility tests will fail)" >&2 ;;
        esac
        case " $missing " in *" postfix "* | *" dovecot-core "* | *" dovecot-imapd "*)
            echo "(continuing without postfix or dovecot-core: tests/test_postfix.py and tests/test_inbox.py will fail)" >&2 ;;
        esac
    fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "advocacy needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
    if command -v npm >/dev/null 2>&1; then
        # Exactly the versions in the lockfile, into tests/npm/node_modules (ignored by git).
        npm ci --prefix tests/npm --no-audit --no-fund --loglevel=error >/dev/null
    fi
else
    .venv/bin/python -m pip install -q --disable-pip-version-check .
fi
