# tests/bench/users.sh -- the users family: the caller's own account (token
# check and one row) and a page of 100 users from the public list.

bench_users() {
	wrk_run users_me "$URL/api/users/me" -c"$BENCH_CONNECTIONS" -H "$auth"
	wrk_run users_list "$URL/api/users/?limit=100" -c"$BENCH_CONNECTIONS"
}
