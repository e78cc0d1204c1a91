#!/usr/bin/env bash
# Fetches libchdb (the ClickHouse engine as a shared library) from the npm
# registry into a version-keyed cache outside the clone, once per machine.
# Prints the library's path. kpi finds it there by itself (or via KPI_LIBCHDB).
set -euo pipefail
VERSION=26.7.3-stable.1
PKG="@chdb/lib-linux-x64-gnu@${VERSION}"
CACHE="${KPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kpi}/libchdb/${VERSION}"
if [ -s "${CACHE}/libchdb.so" ]; then
	echo "${CACHE}/libchdb.so"
	exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to fetch ${PKG}" >&2; exit 1; }
mkdir -p "${CACHE}"
tmp="$(mktemp -d "${CACHE}/.download.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
echo "fetching ${PKG} (178 MB) into ${CACHE}" >&2
(cd "${tmp}" && npm pack --silent "${PKG}" >/dev/null && tar -xzf ./*.tgz package/libchdb.so)
mv "${tmp}/package/libchdb.so" "${CACHE}/libchdb.so"
echo "${CACHE}/libchdb.so"
