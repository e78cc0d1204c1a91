#!/usr/bin/env bash
# Starts or stops a throwaway ClickHouse server for the chserver integration
# tests, with all state under one directory and listening on loopback only.
#
#   .ci/clickhouse-server.sh start DIR   # prints the DSN on success
#   .ci/clickhouse-server.sh stop DIR    # kills only the PID in DIR/pid
#
# Then: KPI_TEST_CLICKHOUSE_DSN=<dsn> go test ./internal/warehouse/chserver/
#
# Debian ships clickhouse-server 18.16 (2018); it is enough to test the
# adapter's connection, inserts, type normalisation and error codes, but not
# server-side query parameters or DateTime64, which need a modern server.
set -euo pipefail

TCP_PORT=19000
HTTP_PORT=18123
START_TIMEOUT=60

usage() {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}

ensure_installed() {
	if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then
		return
	fi
	echo "clickhouse-server not found; installing it with apt-get" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	if ! $sudo apt-get install -y clickhouse-server clickhouse-client; then
		$sudo apt-get update
		$sudo apt-get install -y clickhouse-server clickhouse-client
	fi
}

write_config() {
	local dir=$1
	mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files"
	cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/server.log</log>
        <errorlog>$dir/log/server.err.log</errorlog>
        <size>10M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$TCP_PORT</tcp_port>
    <http_port>$HTTP_PORT</http_port>
    <max_concurrent_queries>20</max_concurrent_queries>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
	cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <max_threads>2</max_threads>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

running() {
	local dir=$1
	[ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

answers() {
	# timeout: something else on the port may accept and never answer.
	timeout 5 clickhouse-client --host 127.0.0.1 --port "$TCP_PORT" -q 'SELECT 1' >/dev/null 2>&1
}

start() {
	local dir=$1
	if running "$dir"; then
		echo "a server from $dir is already running (pid $(cat "$dir/pid"))" >&2
		exit 1
	fi
	ensure_installed
	if answers; then
		echo "another server already answers on 127.0.0.1:$TCP_PORT" >&2
		exit 1
	fi
	write_config "$dir"
	# The 18.16 server runs as whoever starts it, root included, and only
	# needs to own what it writes; the config keeps all of that under $dir.
	setsid nohup clickhouse-server --config-file="$dir/config.xml" \
		>"$dir/log/stdout.log" 2>&1 </dev/null &
	echo $! >"$dir/pid"
	local deadline=$((SECONDS + START_TIMEOUT))
	until answers; do
		if ! running "$dir" || [ "$SECONDS" -ge "$deadline" ]; then
			echo "clickhouse-server did not answer on 127.0.0.1:$TCP_PORT" >&2
			tail -n 40 "$dir/log/stdout.log" "$dir/log/server.err.log" >&2 2>/dev/null || true
			stop "$dir"
			exit 1
		fi
		sleep 0.5
	done
	if ! running "$dir"; then
		echo "clickhouse-server exited after it answered" >&2
		exit 1
	fi
	echo "clickhouse://default@127.0.0.1:$TCP_PORT/default"
}

stop() {
	local dir=$1
	if ! running "$dir"; then
		rm -f "$dir/pid"
		return
	fi
	local pid
	pid=$(cat "$dir/pid")
	kill "$pid"
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
	fi
	rm -f "$dir/pid"
}

[ $# -eq 2 ] || usage
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
case $1 in
start) start "$DIR" ;;
stop) stop "$DIR" ;;
*) usage ;;
esac
