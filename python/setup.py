"""Build hook of the p3cfg Python package: put libp3cfg.so.0 inside the package.

Where the library comes from, in order:
  1. $P3CFG_LIBRARY, a built libp3cfg.so(.0) (e.g. build/lib/libp3cfg.so.0): copied;
  2. $P3CFG_USE_SYSTEM_LIBRARY=1: nothing is bundled; at run time the package loads the
     libp3cfg.so.0 the system's loader finds (cmake --install put it there);
  3. otherwise CMake builds the target libp3cfg from the checkout this folder is in
     (the parent of python/), in the build_temp folder, without the test suite.
Metadata is in pyproject.toml. Only setuptools (and wheel) are needed: no index.
"""

import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform, not 'any'."""

    def has_ext_modules(self):
        return True


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        if os.environ.get("P3CFG_USE_SYSTEM_LIBRARY") == "1":
            return
        target = os.path.join(self.build_lib, "p3cfg", "libp3cfg.so.0")
        shutil.copyfile(self._library(), target)
        os.chmod(target, 0o755)

    def _library(self):
        given = os.environ.get("P3CFG_LIBRARY")
        if given:
            if not os.path.isfile(given):
                raise SystemExit(f"p3cfg: P3CFG_LIBRARY={given} is not a file")
            return os.path.realpath(given)
        if not (os.path.isfile(os.path.join(ROOT, "CMakeLists.txt"))
                and os.path.isfile(os.path.join(ROOT, "include", "p3cfg.h"))):
            raise SystemExit(
                f"p3cfg: {ROOT} is not a p3cfg checkout; build libp3cfg with CMake and set "
                "P3CFG_LIBRARY to build/lib/libp3cfg.so.0 (or install it and set "
                "P3CFG_USE_SYSTEM_LIBRARY=1)")
        build_temp = os.path.abspath(self.get_finalized_command("build").build_temp)
        cmake_build = os.path.join(build_temp, "libp3cfg")
        jobs = str(os.cpu_count() or 1)
        self.announce(f"building libp3cfg with CMake in {cmake_build}", level=2)
        subprocess.check_call(["cmake", "-S", ROOT, "-B", cmake_build,
                               "-DCMAKE_BUILD_TYPE=Release", "-DP3CFG_BUILD_TESTS=OFF"])
        subprocess.check_call(["cmake", "--build", cmake_build, "--target", "libp3cfg",
                               "-j", jobs])
        found = sorted(glob.glob(os.path.join(cmake_build, "**", "libp3cfg.so.0"),
                                 recursive=True))
        if not found:
            raise SystemExit(f"p3cfg: CMake built no libp3cfg.so.0 under {cmake_build}")
        return os.path.realpath(found[0])


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithLibrary})
