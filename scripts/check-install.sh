#!/usr/bin/env bash
# Installs the build into a temporary prefix and links a small program against it
# twice: through pkg-config and through CMake's find_package(gdl).
set -euo pipefail
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cat >"$tmp/ex.c" <<'C'
#include <gdl.h>
#include <stdio.h>
int main(void) {
  gdl_ctx *c = gdl_ctx_new();
  gdl_tensor *a = gdl_tensor_new(c, GDL_F32, GDL_SHAPE(2, 2));
  gdl_tensor_fill(a, 2);
  double s = gdl_tensor_get(gdl_sum(c, gdl_mul(c, a, a), GDL_AXIS_ALL, false), 0);
  gdl_ctx_free(c);
  return s == 16 ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc "$tmp/ex.c" $(pkg-config --cflags --libs gdl) -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/ex_pc"
"$tmp/ex_pc"
mkdir "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(ex C)
find_package(gdl REQUIRED)
add_executable(ex "$tmp/ex.c")
target_link_libraries(ex gdl::gdl)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/b" >/dev/null
"$tmp/cm/b/ex"
echo "install check: pkg-config and find_package(gdl) both link and run"
