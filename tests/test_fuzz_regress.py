"""The fuzz targets' invariants, replayed with the build's compiler and
sanitizers over every input that once broke one (tests/fuzz/regress) and
over the seeds the project makes itself."""
import subprocess

import pytest

from calfs_util import BUILD, ROOT

REGRESS = ROOT / "tests" / "fuzz" / "regress"
TARGETS = sorted(p.name for p in REGRESS.iterdir() if p.is_dir())


@pytest.mark.parametrize("target", TARGETS)
def test_regressions(target):
    inputs = sorted(str(p) for p in (REGRESS / target).iterdir())
    assert inputs, "no regression inputs for %s" % target
    r = subprocess.run([str(BUILD / "tests" / ("regress_" + target))] + inputs,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert r.stdout.split() == inputs      # every input ran to its end


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds")
    subprocess.run([str(ROOT / "tests" / "fuzz" / "seeds.py"), str(out)], check=True,
                   capture_output=True)
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_seeds(target, seeds):
    inputs = sorted(str(p) for p in (seeds / target).iterdir())
    r = subprocess.run([str(BUILD / "tests" / ("regress_" + target))] + inputs,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
