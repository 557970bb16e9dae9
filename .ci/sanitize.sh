#!/usr/bin/env bash
# Builds tapegrad._C with AddressSanitizer and UndefinedBehaviorSanitizer and runs pytest on it.
#
#   .ci/sanitize.sh                      the whole test suite
#   .ci/sanitize.sh tests/test_autograd.py -k chain    any pytest arguments: a part of it
#
# The build lives in build/sanitize (rebuilt incrementally); the package is staged next to it,
# so neither python/tapegrad nor an installed tapegrad is touched. Any sanitizer report fails
# the run: ASan aborts on the first error, and UBSan does too (-fno-sanitize-recover).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/sanitize
python=${PYTHON:-python}

# The build tools that `pip install .` gets in its isolated environment.
missing=()
"$python" -c "import pybind11" 2>/dev/null || missing+=("pybind11>=2.12")
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja)
if [ ${#missing[@]} -gt 0 ]; then "$python" -m pip install -q "${missing[@]}"; fi

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# -O0 compiles in a third of the time of -O3 and runs the tests about as fast (they are mostly Python);
# link-time optimisation (pybind11's default in Release) would make the instrumented link take minutes.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_CUDA=OFF \
  -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF -DTAPEGRAD_OPTIMIZE=-O0 \
  -DPython_EXECUTABLE="$(command -v "$python")" \
  -DCMAKE_CXX_FLAGS="$sanitizers -fno-omit-frame-pointer -g" \
  -DCMAKE_SHARED_LINKER_FLAGS="$sanitizers" \
  -Dpybind11_DIR="$("$python" -c "import pybind11; print(pybind11.get_cmake_dir())")" >/dev/null
ninja -C "$build" -j "${SANITIZE_JOBS:-2}" _C

# python/tapegrad with the sanitized _C in place of whatever _C it holds.
rm -rf "$build/pkg"
mkdir -p "$build/pkg"
cp -r python/tapegrad "$build/pkg/"
rm -f "$build"/pkg/tapegrad/_C*.so
cp "$build"/_C*.so "$build/pkg/tapegrad/"

# The interpreter is not instrumented, so the sanitizer runtimes are preloaded; child processes
# that tests start inherit them. Leak checking is off: CPython and torch keep memory to exit by
# design. PYTHONMALLOC=malloc sends Python objects through ASan too, so a tensor object used after
# it was freed is caught rather than hidden in a pymalloc arena.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PYTHONMALLOC=malloc
export PYTHONPATH="$build/pkg:$root/tests"
"$python" -c "import tapegrad, torch; assert tapegrad.__file__.startswith('$build/pkg'), tapegrad.__file__"
if [ $# -eq 0 ]; then set -- tests; fi
# Resident memory under ASan is its shadow memory and its quarantine of freed blocks, not tapegrad's.
exec "$python" -m pytest -q -p no:cacheprovider "$@" \
  --deselect tests/test_memory.py::test_resident_memory_flat_over_2000_training_steps \
  --deselect tests/test_memory.py::test_resident_memory_flat_over_20000_graphs_half_never_backpropagated
