# destinations.sh -- ./dev bench plug-in (tests/bench/README.md): incoming
# data forwarded by the dispatcher's webhook channel to a sink on loopback
# (the bench nginx's own /__ceiling, which answers 200 at once).
#
# For 1, 10 and 100 destinations per account:
#   webhook_fanout_N   wrk posts incoming data as fast as it can; the rate
#                      is deliveries per second from the first receipt to
#                      the last delivery, p50/p99 from receipt to delivery
#                      (saturated: the queue grows while wrk runs);
#   webhook_latency_N  one event at a time, 50 of them: p50/p99 from
#                      receipt to delivery when nothing is queued.
# Receipt is incoming_events.received_at, delivery deliveries.finished_at
# (after the receiver's answer is recorded), both written by the server.
#
# The dispatcher is restarted with [dispatcher] poll_ms = 20 and
# concurrency = 64: with the default 500 ms poll an idle queue waits up to
# half a second for its next claim, which is the poll, not the sending.

# SQL on the bench stack's database; prints tab-separated rows.
bench_dest_sql() {
	FASTBACK_VAR=$BVAR "$SELF" sql --batch --skip-column-names -e "$1"
}

# An account with n destinations pointing at the sink; prints its token.
bench_dest_account() {
	local n=$1 acct id secret i
	acct=$(curl -sS --max-time 30 -H 'Content-Type: application/json' \
	    -H "$auth" -d "{\"account_name\": \"bench $n $(random_hex 4)\"}" \
	    "$URL/api/accounts/")
	id=$(echo "$acct" | jq -r '.id // empty')
	secret=$(echo "$acct" | jq -r '.app_secret_token // empty')
	[ -n "$id" ] && [ -n "$secret" ] ||
	    die "bench: cannot create an account: $acct"
	for i in $(seq "$n"); do
		curl -sS --max-time 30 -o /dev/null -H "$auth" \
		    -H 'Content-Type: application/json' \
		    -d "{\"account\": \"$id\", \"url\": \"$URL/__ceiling?d=$i\"}" \
		    "$URL/api/destinations/"
	done
	[ "$(bench_dest_sql "SELECT COUNT(*) FROM destinations WHERE
	    account_id = '$id'")" = "$n" ] ||
	    die "bench: the account has not $n destinations"
	echo "$id $secret"
}

# Wait until account id has nothing left to send (at most 120 s).
bench_dest_drain() {
	local i left
	for i in $(seq 1200); do
		left=$(bench_dest_sql "SELECT COUNT(*) FROM webhook_deliveries w
		    JOIN deliveries d ON d.id = w.delivery_id
		    WHERE w.account_id = '$1'
		    AND d.state IN ('pending', 'sending')")
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	say "bench: $left deliveries still queued after 120 s"
}

# "name rate p50 p99 count errors" for account id's deliveries.
bench_dest_result() {
	bench_dest_sql "SELECT TIMESTAMPDIFF(MICROSECOND, e.received_at,
	    d.finished_at) / 1000, d.state = 'delivered',
	    UNIX_TIMESTAMP(e.received_at), UNIX_TIMESTAMP(d.finished_at)
	    FROM webhook_deliveries w JOIN deliveries d ON d.id = w.delivery_id
	    JOIN incoming_events e ON e.id = w.event_row
	    WHERE w.account_id = '$2' AND d.finished_at IS NOT NULL" |
	    sort -n | awk -v name="$1" -v rated="$3" '
		{ ms[NR] = $1; ok += $2; if (first == "" || $3 < first) first = $3
		  if ($4 > last) last = $4 }
		END {
			if (NR == 0) { printf "%s 0 0 0 0 0\n", name; exit }
			span = last - first
			rate = rated && span > 0 ? NR / span : 0
			p50 = ms[int((NR - 1) * 0.50) + 1]
			p99 = ms[int((NR - 1) * 0.99) + 1]
			printf "%s %.1f %.3f %.3f %d %d\n", name, rate, p50, p99,
			    NR, NR - ok
		}' >>"$BVAR/results.txt"
}

bench_destinations() {
	local n acct id secret pid i
	pid=$(VAR=$BVAR running fastback-dispatcher) ||
	    die "bench: fastback-dispatcher is not running"
	kill -TERM "$pid"
	wait_exit "$pid" 15 || die "bench: the dispatcher did not stop"
	# The same stack switches as cmd_bench's (no access log, rate limits
	# in dry-run), or the restart would reload nginx without them.
	FASTBACK_VAR=$BVAR FASTBACK_BENCH=1 FASTBACK_BUILD=$bin \
	    FASTBACK_DISPATCHER_POLL_MS=20 \
	    FASTBACK_DISPATCHER_CONCURRENCY=64 FASTBACK_DISPATCHER_BATCH=64 \
	    "$SELF" start >/dev/null

	cat >"$BVAR/incoming.lua" <<'EOF'
-- Each request a new CL-X-EVENT-ID: thread, counter, and a per-run tag.
local counter = 0
local tag = tostring(os.time()) .. "-" .. tostring(math.random(1000000))
function setup(thread)
	thread:set("id", tostring(math.random(1000000000)))
end
function request()
	counter = counter + 1
	wrk.headers["CL-X-EVENT-ID"] = tag .. "-" .. id .. "-" .. counter
	return wrk.format("POST", nil, nil, '{"n": ' .. counter .. ', "bench": true}')
end
EOF
	for n in 1 10 100; do
		read -r id secret < <(bench_dest_account "$n")
		say "measuring webhook_fanout_$n"
		wrk -t"$BENCH_THREADS" -c8 -d"${FASTBACK_BENCH_SECONDS:-10}s" \
		    -H 'Content-Type: application/json' -H "CL-X-TOKEN: $secret" \
		    -s "$BVAR/incoming.lua" "$URL/server/incoming_data/" \
		    >"$BVAR/wrk-webhook-$n.txt" ||
		    die "wrk failed: $(cat "$BVAR/wrk-webhook-$n.txt")"
		bench_dest_drain "$id"
		bench_dest_result "webhook_fanout_$n" "$id" 1

		read -r id secret < <(bench_dest_account "$n")
		say "measuring webhook_latency_$n"
		for i in $(seq 50); do
			curl -sS -o /dev/null --max-time 10 \
			    -H 'Content-Type: application/json' \
			    -H "CL-X-TOKEN: $secret" -H "CL-X-EVENT-ID: lat-$i" \
			    -d '{"latency": true}' "$URL/server/incoming_data/"
			bench_dest_drain "$id"
		done
		bench_dest_result "webhook_latency_$n" "$id" 0
	done
}
