# conversations.sh -- ./dev bench plug-in of the conversations family
# (tests/bench/README.md).  Targets, as ratios to GET /api/ping of the same
# run: GET /api/messages with 50 messages >= 14%, GET /api/conversations
# with 20 conversations >= 12%, POST /api/messages (with its events row)
# >= 15%.  Every list is one or two statements whatever its length, and
# an index range whatever the table's size: both lists are measured again
# with a million more messages in the table (*_1m), which should not move.

bench_conversations() {
	local i peer id me
	say "conversations: 50 public messages, 20 private chats"
	for i in $(seq 50); do
		curl -sS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
		    -d "{\"content\": \"bench message $i\"}" "$URL/api/messages"
	done
	for i in $(seq 20); do
		peer="bench$(random_hex 6)"
		id=$(bench_post /api/auth/register "{\"username\": \"$peer\", \
\"email\": \"$peer@example.com\", \"password\": \"pw-$(random_hex 8)\"}" |
		    jq -r '.user.id // empty')
		[ -n "$id" ] || die "could not register a bench peer"
		curl -sS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
		    -d "{\"content\": \"hello $i\"}" "$URL/api/messages/private/$id"
	done
	[ "$(curl -s -H "$auth" "$URL/api/conversations" | jq '.conversations | length')" = 20 ] ||
	    die "GET /api/conversations does not list the 20 chats"

	wrk_run messages_get "$URL/api/messages?limit=50" -c"$BENCH_CONNECTIONS" -H "$auth"
	wrk_run conversations_get "$URL/api/conversations" -c"$BENCH_CONNECTIONS" -H "$auth"
	cat >"$BVAR/message.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"content": "a benchmark message"}'
LUA
	wrk_run messages_post "$URL/api/messages" -c"$BENCH_CONNECTIONS" -s "$BVAR/message.lua"

	say "conversations: adding 1,000,000 messages to the public room (SQL)"
	me=$(curl -sS -H "$auth" "$URL/api/users/me" | jq -r '.user.id // empty')
	[ -n "$me" ] || die "GET /api/users/me does not name the bench user"
	FASTBACK_VAR=$BVAR "$SELF" sql -e "INSERT INTO messages
	    (conversation_id, sender_id, body) SELECT 1, $me,
	    CONCAT('filler ', seq) FROM seq_1_to_1000000" ||
	    die "could not add a million messages"
	wrk_run messages_get_1m "$URL/api/messages?limit=50" -c"$BENCH_CONNECTIONS" -H "$auth"
	wrk_run conversations_get_1m "$URL/api/conversations" -c"$BENCH_CONNECTIONS" -H "$auth"
}
