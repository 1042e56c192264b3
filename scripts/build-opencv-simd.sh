#!/usr/bin/env bash
# Builds OpenCV.js 4.6.0 with WebAssembly SIMD (core + imgproc, whitelisted to what the project
# calls) from Debian bookworm's pinned sources and toolchain (vendor/opencv-simd/README.md).
#
# Usage: scripts/build-opencv-simd.sh [WORKDIR]      (default WORKDIR: /work/simd-build)
#   SIMD=0 builds the same thing without -msimd128 (a scalar twin, to separate SIMD from version).
#   JOBS (default 2) caps make's parallelism; everything runs under `nice -n 19`.
# Needs: root (apt-get), Debian bookworm with a deb-src line for bookworm main.
# Output: $WORKDIR/build-{simd,scalar}/bin/opencv.js (single file, WASM embedded) + its sha256.
#
# Pitfalls met on the way (each handled below):
# - Debian's emscripten runs tools/acorn-optimizer.js with the system node, which does not look in
#   /usr/share/nodejs where Debian's node-acorn lives: NODE_PATH must point there.
# - emscripten 3.1.6's generated loader uses fetch() whenever it exists (Node >= 18) and fails on a
#   file path; SINGLE_FILE=1 (which OpenCV's js module sets anyway) embeds the WASM as a data: URI.
# - Debian's +dfsg OpenCV tarball has no 3rdparty/ (so BUILD_ZLIB=ON fails) and the Debian
#   emscripten cache is frozen (FROZEN_CACHE=True, no -s USE_ZLIB port): zlib is built here from
#   Debian's zlib source with emcc and handed to CMake. For the same reason every other bundled
#   3rdparty library CMake would add (openjpeg, protobuf, quirc) is switched off.
set -euo pipefail

WORKDIR=${1:-/work/simd-build}
SIMD=${SIMD:-1}
JOBS=${JOBS:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
WHITELIST="$HERE/opencv-simd/opencv_js.config.py"

# Pinned versions: the build refuses to run with anything else.
OPENCV_DEB=4.6.0+dfsg-12
OPENCV_ORIG_SHA256=40a59ba7e5c18a43652de0a08733c9843a39bba619b1f3e26a5fac4a6f041423
ZLIB_DEB=1:1.2.13.dfsg-1
ZLIB_ORIG_SHA256=71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1
EMSCRIPTEN_DEB=3.1.6~dfsg-5
BINARYEN_DEB=108-1
CLANG_DEB=1:14.0.6-12
# getBuildInformation() embeds a configure timestamp; pinned to the committed build's, so a rebuild
# can come out byte-identical. It also embeds the host's kernel version and the python3 path
# ("Host:", "Python (for build):"): those and WORKDIR (source paths in error messages) must match too.
OPENCV_TIMESTAMP=${OPENCV_TIMESTAMP:-2026-11-29T03:29:56Z}

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo missing; }

echo "== toolchain"
if [ "$(pkgver emscripten)" != "$EMSCRIPTEN_DEB" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y "emscripten=$EMSCRIPTEN_DEB" dpkg-dev
fi
for p in emscripten:$EMSCRIPTEN_DEB binaryen:$BINARYEN_DEB clang-14:$CLANG_DEB; do
  have=$(pkgver "${p%%:*}")
  echo "  ${p%%:*} $have"
  [ "$have" = "${p#*:}" ] || { echo "expected ${p%%:*} ${p#*:}, got $have" >&2; exit 1; }
done
export NODE_PATH=/usr/share/nodejs
EMCC_VERSION=$(emcc --version | head -1)
echo "  $EMCC_VERSION"
case "$EMCC_VERSION" in *" 3.1.6 "*) ;; *) echo "expected emcc 3.1.6" >&2; exit 1 ;; esac
echo "  node $(node --version) (used by emcc's JS optimiser)"

mkdir -p "$WORKDIR"
cd "$WORKDIR"

echo "== sources (Debian bookworm)"
[ -f "opencv_4.6.0+dfsg.orig.tar.xz" ] || apt-get source --download-only "opencv=$OPENCV_DEB"
[ -f "zlib_1.2.13.dfsg.orig.tar.bz2" ] || apt-get source --download-only "zlib=$ZLIB_DEB"
# apt-get checks the tarballs against the signed .dsc; this also pins them across Debian revisions.
printf '%s  %s\n' "$OPENCV_ORIG_SHA256" opencv_4.6.0+dfsg.orig.tar.xz "$ZLIB_ORIG_SHA256" zlib_1.2.13.dfsg.orig.tar.bz2 | sha256sum -c -
[ -d opencv-4.6.0 ] || tar xJf opencv_4.6.0+dfsg.orig.tar.xz
[ -d zlib-1.2.13.dfsg ] || tar xjf zlib_1.2.13.dfsg.orig.tar.bz2

echo "== zlib for wasm"
ZLIB_OUT="$WORKDIR/zlib-wasm"
if [ ! -f "$ZLIB_OUT/lib/libz.a" ]; then
  # zlib's own configure writes the zconf.h (unistd, off_t) that matches the library.
  (cd zlib-1.2.13.dfsg && CFLAGS=-O3 nice -n 19 emconfigure ./configure --static --prefix="$ZLIB_OUT" \
    && nice -n 19 emmake make -j"$JOBS" libz.a && emmake make install)
fi

if [ "$SIMD" = 1 ]; then BUILD="$WORKDIR/build-simd"; SIMD_ARG=--simd; else BUILD="$WORKDIR/build-scalar"; SIMD_ARG=; fi
echo "== OpenCV.js ($BUILD)"
start=$(date +%s)
# build_js.py configures (later -D options override its own: it turns on calib3d, dnn, tests, ...);
# make runs here rather than in build_js.py, which would use -j<all cpus>.
nice -n 19 python3 opencv-4.6.0/platforms/js/build_js.py "$BUILD" \
  --emscripten_dir /usr/share/emscripten \
  --build_wasm $SIMD_ARG \
  --config "$WHITELIST" \
  --cmake_option=-DBUILD_LIST=core,imgproc,js \
  --cmake_option=-DBUILD_ZLIB=OFF \
  --cmake_option=-DZLIB_INCLUDE_DIR="$ZLIB_OUT/include" \
  --cmake_option=-DZLIB_LIBRARY="$ZLIB_OUT/lib/libz.a" \
  --cmake_option=-DWITH_QUIRC=OFF \
  --cmake_option=-DWITH_OPENJPEG=OFF \
  --cmake_option=-DWITH_PROTOBUF=OFF \
  --cmake_option=-DBUILD_PROTOBUF=OFF \
  --cmake_option=-DWITH_VA=OFF \
  --cmake_option=-DBUILD_TESTS=OFF \
  --cmake_option=-DBUILD_PERF_TESTS=OFF \
  --cmake_option=-DBUILD_EXAMPLES=OFF \
  --cmake_option=-DOPENCV_TIMESTAMP="$OPENCV_TIMESTAMP" \
  --config_only
(cd "$BUILD" && nice -n 19 make -j"$JOBS" opencv.js)
end=$(date +%s)
echo "== built in $((end - start)) s"
# opencv_js.js is emscripten's factory (what vendor/opencv-simd holds and lib/filters/opencv.ts
# loads); opencv.js is OpenCV's UMD wrapper of it, which leaks a global `Module` (not used).
ls -l "$BUILD/bin/opencv_js.js" "$BUILD/bin/opencv.js"
sha256sum "$BUILD/bin/opencv_js.js" "$BUILD/bin/opencv.js"
if [ "$SIMD" = 1 ]; then
  VENDORED="$HERE/../vendor/opencv-simd/opencv_js.js"
  if [ -f "$VENDORED" ] && cmp -s "$VENDORED" "$BUILD/bin/opencv_js.js"; then
    echo "== identical to vendor/opencv-simd/opencv_js.js"
  else
    echo "== differs from vendor/opencv-simd/opencv_js.js: to adopt it, copy it there and update"
    echo "   SIMD_BUILD_SHA256 in lib/filters/opencv.ts (the file embeds source paths: same WORKDIR to reproduce)"
  fi
fi
