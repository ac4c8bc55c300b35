# notifier.sh -- ./dev bench plug-in of the notifier (tests/bench/README.md),
# with socket.io-client over WebSocket through nginx (tests/bench/notifier.js).
# Targets (issue 6): 10,000 concurrent connections held, the notifier under
# 20 KB of RSS per idle connection and under 2% of a core while they idle;
# broadcast latency from a REST POST to the last of 1,000 sockets in a room
# with p99 under [notifier] poll_ms + 50 ms; and the sustained messages per
# second of a busy room.
#
# The notifier is restarted under a higher open-file limit, with the socket
# limits out of the way (one bench user holds every socket, and posts as
# fast as the API answers).  FASTBACK_BENCH_NOTIFIER_CONNS changes the
# 10,000, FASTBACK_BENCH_NOTIFIER_IDLE the seconds of the idle CPU reading,
# FASTBACK_BENCH_NOTIFIER_ROOM the 1,000 sockets of the broadcast and
# FASTBACK_BENCH_NOTIFIER_POSTS its 200 posts.

bench_notifier() {
	local pid conns=${FASTBACK_BENCH_NOTIFIER_CONNS:-10000} out poll
	local room=${FASTBACK_BENCH_NOTIFIER_ROOM:-1000}
	local posts=${FASTBACK_BENCH_NOTIFIER_POSTS:-200}
	[ -x "$bin/fastback-notifier" ] || { say "notifier: not built, skipped"; return 0; }
	# Every socket is a descriptor in nginx (twice) and in the notifier.
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	pid=$(VAR=$BVAR running fastback-notifier) ||
	    die "bench: fastback-notifier is not running"
	kill -TERM "$pid"
	wait_exit "$pid" 15 || die "bench: the notifier did not stop"
	FASTBACK_VAR=$BVAR FASTBACK_BENCH=1 FASTBACK_BUILD=$bin \
	    FASTBACK_NOTIFIER_MAX_SOCKETS_PER_USER=$((conns + 2000)) \
	    FASTBACK_NOTIFIER_RATE_LIMIT=100000 FASTBACK_NOTIFIER_RATE_BURST=100000 \
	    "$SELF" start >/dev/null
	pid=$(VAR=$BVAR running fastback-notifier) ||
	    die "bench: fastback-notifier did not start again"
	poll=$("$bin/fastback-notifier" --config "$BVAR/config.ini" --print-config 2>/dev/null |
	    awk '/^\[/ { s = $0 } s == "[notifier]" && $1 == "poll_ms" { print $3 }') || true

	say "notifier: $conns idle WebSocket connections through nginx"
	out=$(node "$SRC/tests/bench/notifier.js" hold "$URL" "$token" "$conns" "$pid" \
	    "${FASTBACK_BENCH_NOTIFIER_IDLE:-30}") || die "bench: notifier.js hold failed"
	echo "$out" >"$BVAR/notifier-hold.json"
	echo "$out" | jq -r '"notifier_conns \(.held) 0 0 \(.wanted) \(.wanted - .held)"' >>"$BVAR/results.txt"
	echo "$out" | jq -r '"notifier: held \(.held) of \(.wanted) in \(.open_seconds | floor) s; RSS \(.rss_before_kb) -> \(.rss_after_kb) kB, \(.rss_per_conn_kb * 10 | floor / 10) kB per connection (target < 20); idle CPU \(.idle_cpu_pct * 100 | floor / 100)% over \(.idle_seconds) s (target < 2%)"' |
	    tee -a "$BVAR/notifier.txt" >&2

	say "notifier: broadcast latency, REST POST -> the last of $room sockets"
	out=$(node "$SRC/tests/bench/notifier.js" broadcast "$URL" "$token" "$room" "$posts") ||
	    die "bench: notifier.js broadcast failed"
	echo "$out" >"$BVAR/notifier-broadcast.json"
	echo "$out" | jq -r '"notifier_broadcast \(.posts) \(.p50_ms) \(.p99_ms) \(.posts) \(.errors)"' >>"$BVAR/results.txt"
	echo "$out" | jq -r --arg poll "${poll:-100}" '"notifier: broadcast to \(.sockets) sockets: p50 \(.p50_ms | floor) ms, p99 \(.p99_ms | floor) ms, max \(.max_ms | floor) ms (target p99 < \($poll | tonumber + 50) ms)"' |
	    tee -a "$BVAR/notifier.txt" >&2

	say "notifier: a busy room, 100 sockets, 8 REST posters"
	out=$(node "$SRC/tests/bench/notifier.js" busy "$URL" "$token" 100 \
	    "${FASTBACK_BENCH_SECONDS:-10}" 8) || die "bench: notifier.js busy failed"
	echo "$out" >"$BVAR/notifier-busy.json"
	echo "$out" | jq -r '"notifier_busy_room \(.messages_per_s) \(.p50_ms) \(.p99_ms) \(.posted) \(.errors + .posted - .fully_delivered)"' >>"$BVAR/results.txt"
	echo "$out" | jq -r '"notifier: busy room: \(.messages_per_s | floor) messages/s posted, \(.deliveries_per_s | floor) deliveries/s to \(.sockets) sockets, p50 \(.p50_ms | floor) ms, p99 \(.p99_ms | floor) ms post -> last socket"' |
	    tee -a "$BVAR/notifier.txt" >&2
}
