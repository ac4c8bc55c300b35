#!/bin/sh
# check-config.sh -- the production nginx configuration is valid and keeps
# the rules the responders rely on.  TAP; make check runs it.
set -eu

src=${FASTBACK_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/fastback-nginx.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# An nginx prefix laid out like /etc/nginx, holding the site as installed.
ln -s "$src/nginx" "$dir/fastback"
mkdir "$dir/tmp"
cat >"$dir/nginx.conf" <<CONF
pid $dir/nginx.pid;
events {}
http {
	client_body_temp_path $dir/tmp/body;
	fastcgi_temp_path $dir/tmp/fastcgi;
	proxy_temp_path $dir/tmp/proxy;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	include fastback/fastback-http.conf;
	include fastback/fastback.conf;
}
CONF

# Configuration lines without comments, from every file of the site.
lines() {
	sed -e 's/#.*//' "$src"/nginx/*.conf "$src"/nginx/routes/*.conf
}

echo "1..4"

if out=$(nginx -t -p "$dir" -c nginx.conf -e stderr 2>&1); then
	echo "ok 1 - nginx -t accepts the production site"
else
	echo "not ok 1 - nginx -t accepts the production site"
	echo "$out" | sed 's/^/# /'
fi

used=$(lines | sed -n -e 's/.*fastcgi_pass[ \t]*\([A-Za-z0-9_]*\).*/\1/p' \
    -e 's|.*proxy_pass[ \t]*http://\([A-Za-z0-9_]*\).*|\1|p' | sort -u)
defined=$(lines | sed -n 's/.*upstream[ \t]*\([A-Za-z0-9_]*\).*/\1/p' | sort -u)
missing=$(echo "$used" | grep -vxF "$defined" || true)
if [ -z "$missing" ]; then
	echo "ok 2 - every upstream a route uses is in upstreams.conf"
else
	echo "not ok 2 - every upstream a route uses is in upstreams.conf"
	echo "# missing: $missing"
fi

# A pre-forked libfcgi worker blocks on a kept-alive connection (tech.md).
if lines | grep -Eq 'fastcgi_keep_conn|(^|[ \t;{])keepalive[ \t]'; then
	echo "not ok 3 - no keep-alive towards the responders"
else
	echo "ok 3 - no keep-alive towards the responders"
fi

# A family lists its own route file in cgi-bin/<family>/include.am.
unlisted=
for f in "$src"/nginx/*.conf "$src"/nginx/routes/*.conf; do
	name=nginx/${f#"$src"/nginx/}
	cat "$src/nginx/include.am" "$src"/cgi-bin/*/include.am |
	    grep -q "$name" || unlisted="$unlisted $name"
done
if [ -z "$unlisted" ]; then
	echo "ok 4 - nginx/include.am installs every file of the site"
else
	echo "not ok 4 - nginx/include.am installs every file of the site"
	echo "# not listed:$unlisted"
fi
