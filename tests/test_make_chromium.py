"""`make chromium` (run by `make test` before pytest) on machines unlike this one: Chromium missing, apt-get that
works, works only after an update, or fails, and no root rights. The recipe runs with PATH holding only stub
`apt-get`, `id` and (once "installed") `chromium` scripts, so the real ones are never touched; each stub writes what
it was asked into a log."""
import os, shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which('make')
TOUCH, CHMOD = shutil.which('touch'), shutil.which('chmod')   # by full path: the stubs' PATH has neither
pytestmark = pytest.mark.skipif(MAKE is None, reason='no make on this machine')

APT = '''#!/bin/bash
echo "apt-get $*" >> "{log}"
case "$1" in
  update) {touch} "{bin}/.updated"; exit 0 ;;
  install) if [ "{mode}" = works ] || {{ [ "{mode}" = after-update ] && [ -e "{bin}/.updated" ]; }}; then
             printf '#!/bin/bash\\necho chromium 1.0\\n' > "{bin}/chromium"; {chmod} +x "{bin}/chromium"; exit 0
           fi; exit 100 ;;
esac
exit 1
'''


def _stub(path:Path, text:str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def make_chromium(tmp:Path, apt:str|None, uid:int, has_chromium:bool=False) -> tuple:
    "Run `make chromium` with stub tools in tmp/bin; returns (exit status, output, apt-get calls, chromium there)."
    bin_, log = tmp/'bin', tmp/'calls.log'
    bin_.mkdir()
    _stub(bin_/'id', f'#!/bin/bash\n[ "$1" = -u ] && echo {uid} || echo "uid={uid}"\n')
    if apt: _stub(bin_/'apt-get', APT.format(log=log, bin=bin_, mode=apt, touch=TOUCH, chmod=CHMOD))
    if has_chromium: _stub(bin_/'chromium', '#!/bin/bash\necho chromium 1.0\n')
    env = {'PATH': str(bin_), 'HOME': str(tmp), 'LANG': 'C.UTF-8'}
    r = subprocess.run([MAKE, '--no-print-directory', '-C', str(ROOT), 'chromium'], env=env, capture_output=True,
                       text=True, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return r.returncode, r.stdout + r.stderr, calls, os.access(bin_/'chromium', os.X_OK)


def test_root_installs_chromium_from_the_debian_packages(tmp_path):
    code, out, calls, there = make_chromium(tmp_path, 'works', uid=0)
    assert code == 0 and there and 'installing chromium (Debian package)' in out, out
    assert calls == ['apt-get install -y -qq chromium']


def test_a_stale_package_list_is_updated_once_then_installed(tmp_path):
    code, out, calls, there = make_chromium(tmp_path, 'after-update', uid=0)
    assert code == 0 and there, out
    assert calls == ['apt-get install -y -qq chromium', 'apt-get update -qq', 'apt-get install -y -qq chromium']


def test_a_failed_install_says_the_browser_tests_will_be_skipped(tmp_path):
    code, out, calls, there = make_chromium(tmp_path, 'fails', uid=0)
    assert code == 0 and not there, out                  # `make test` goes on; pytest -rs lists the skips
    assert 'chromium: apt-get failed; the browser tests will be reported as skipped' in out
    assert len(calls) == 3


@pytest.mark.parametrize('uid, apt', [(1000, 'works'), (0, None)])
def test_without_rights_or_apt_nothing_is_installed_and_it_says_so(tmp_path, uid, apt):
    code, out, calls, there = make_chromium(tmp_path, apt, uid=uid)
    assert code == 0 and not there and calls == [], out
    assert 'no Chromium and no rights to install it: the browser tests will be reported as skipped' in out


def test_a_chromium_already_there_is_left_alone(tmp_path):
    code, out, calls, there = make_chromium(tmp_path, 'works', uid=0, has_chromium=True)
    assert code == 0 and calls == [] and 'installing' not in out, out
