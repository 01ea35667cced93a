"""Dependencies say what the code uses: deptry over the package and over tests and benchmarks."""

import subprocess
import sys

from lks_pipeline_tests.conftest import REPO


def deptry(*args):
    return subprocess.run(
        [sys.executable, "-m", "deptry", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_package_declares_what_it_imports_and_uses_what_it_declares():
    """Missing, unused, transitive, and dev-only packages imported at run time all fail."""
    result = deptry("lks_pipeline")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_and_benchmarks_import_only_declared_packages():
    """They may use dev packages and need not use every runtime one."""
    result = deptry("lks_pipeline_tests", "benchmarks", "--ignore", "DEP002,DEP004")
    assert result.returncode == 0, result.stdout + result.stderr
