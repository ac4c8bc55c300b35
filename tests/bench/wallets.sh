# tests/bench/wallets.sh -- ./dev bench plug-in of the wallets family
# (tests/bench/README.md): an authenticated read (GET /api/wallets), writes
# that each commit a wallet and its events row (POST /api/wallets paired
# with a DELETE, so the user stays under [wallets] max_per_user), and sync
# uploads of batches of 100 changes, also reported as changes per second.
# Targets, as ratios to GET /api/ping of the same run: read >= 24%, write
# >= 15%; sync >= 20,000 changes/s.

bench_wallets() {
	local i

	# A few wallets to list, made as a client would.
	for i in 1 2 3 4 5; do
		curl -sS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
		    -d "{\"currency\": \"USD\", \"balance\": $((i * 100))}" \
		    "$URL/api/wallets"
	done
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$URL/api/wallets")" = 200 ] ||
	    die "GET /api/wallets does not answer 200"

	wrk_run wallets_list "$URL/api/wallets?limit=5" -c"$BENCH_CONNECTIONS" -H "$auth"

	# Each thread creates a wallet, then deletes the one it made: every
	# request is a write with its events row.
	cat >"$BVAR/wallets-write.lua" <<LUA
local made = {}
function request()
	local id = table.remove(made)
	if id then
		return wrk.format("DELETE", "/api/wallets/" .. id,
		    { ["Authorization"] = "Bearer $token" })
	end
	return wrk.format("POST", "/api/wallets",
	    { ["Authorization"] = "Bearer $token",
	      ["Content-Type"] = "application/json" },
	    '{"currency": "EUR", "balance": 1000, "description": "bench"}')
end
function response(status, headers, body)
	if status == 201 then
		local id = body:match('"wallet":%s*{%s*"id":%s*(%d+)')
		if id then table.insert(made, id) end
	end
end
LUA
	wrk_run wallets_write "$URL/api/wallets" -c"$BENCH_CONNECTIONS" \
	    -s "$BVAR/wallets-write.lua"

	# Sync: batches of 100 new changes; each thread is a device of its own
	# with its own log ids.
	cat >"$BVAR/wallets-sync.lua" <<LUA
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
local log_id = 0
local device
function init(args)
	device = "bench-" .. tid .. "-" .. math.random(1000000000)
end
function request()
	local parts = {}
	for i = 1, 100 do
		log_id = log_id + 1
		parts[i] = string.format('{"log_id": %d, "table_name": ' ..
		    '"transactions", "operation": "I", "data": {"id": %d, ' ..
		    '"amount": "12.50", "type": "expense", "source": "cash"}, ' ..
		    '"timestamp": "2024-07-18T12:34:56"}', log_id, log_id)
	end
	return wrk.format("POST", "/api/sync/changes",
	    { ["Authorization"] = "Bearer $token",
	      ["Content-Type"] = "application/json",
	      ["X-Device-Id"] = device },
	    '{"changes": [' .. table.concat(parts, ", ") .. ']}')
end
LUA
	wrk_run wallets_sync100 "$URL/api/sync/changes" -c8 \
	    -s "$BVAR/wallets-sync.lua"
	awk '$1 == "wallets_sync100" {
		printf "sync_changes_per_s %.1f %.3f %.3f %d %d\n", $2 * 100, $3, $4,
		    $5 * 100, $6 }' "$BVAR/results.txt" >>"$BVAR/results.txt"
}
