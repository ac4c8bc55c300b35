#!/bin/sh
# build.sh -- the API documentation nginx serves at /api/swagger/,
# /api/redoc/ and /api/swagger.json (nginx/routes/destinations.conf).
#
# usage: nginx/docs/build.sh [OUTDIR [ROOT]]
#
# Joins common/openapi.yaml and every cgi-bin/<family>/openapi.yaml into
# OUTDIR/swagger.json (the tests' Redocly CLI, as tests/api/090 does),
# copies Swagger UI and ReDoc from their npm packages (swagger-ui-dist,
# redoc; ./dev deps installs them in tests/node_modules) and the pages of
# this folder, and writes OUTDIR/root.conf: "root ROOT;" for nginx, ROOT
# being where OUTDIR will be served from (default OUTDIR; make install
# passes the installed folder while writing under DESTDIR).  Nothing is
# fetched at run time.
#
# Without arguments it builds for the local stack: OUTDIR is var/docs and
# the root goes to nginx/docs/root-local.conf, which the local nginx reads
# through its link to this folder (restart the stack afterwards).
set -eu

src=${FASTBACK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
mods=${FASTBACK_NODE_MODULES:-$src/tests/node_modules}
if [ $# -eq 0 ]; then
	out=$src/var/docs
	rootconf=$src/nginx/docs/root-local.conf
else
	out=$1
	rootconf=$out/root.conf
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=${2:-$out}

for f in swagger-ui-dist/swagger-ui-bundle.js swagger-ui-dist/swagger-ui.css \
    redoc/bundles/redoc.standalone.js; do
	if [ ! -f "$mods/$f" ]; then
		echo "build.sh: $mods/$f is missing: run ./dev deps" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fastback-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The families that serve routes, as tests/api/090-openapi.test.js joins them.
set -- "$src/common/openapi.yaml"
for f in "$src"/cgi-bin/*/openapi.yaml; do
	[ -f "$(dirname "$f")/main.c" ] && set -- "$@" "$f"
done
(cd "$src/tests" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    npx --no-install redocly join "$@" -o "$tmp/swagger.json" >"$tmp/join.log" 2>&1) || {
	cat "$tmp/join.log" >&2
	exit 1
}

cp "$tmp/swagger.json" "$mods/swagger-ui-dist/swagger-ui-bundle.js" \
    "$mods/swagger-ui-dist/swagger-ui.css" \
    "$mods/redoc/bundles/redoc.standalone.js" \
    "$src/nginx/docs/swagger.html" "$src/nginx/docs/swagger-init.js" \
    "$src/nginx/docs/redoc.html" "$out/"
chmod 644 "$out"/*
printf '# Written by nginx/docs/build.sh: where the API docs are.\nroot %s;\n' \
    "$root" >"$rootconf"
echo "build.sh: API docs in $out"
