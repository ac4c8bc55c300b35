#!/usr/bin/python3
# slowreader.py -- a Socket.IO client over WebSocket that stops reading, for
# the notifier's slow-consumer limit (tests/api/570-notifier-limits).
#
# usage: slowreader.py WS_URL TOKEN
#
# Connects with a small receive buffer (websocket-client, Debian's
# python3-websocket), authenticates, joins the public room, prints
# {"type": "joined"} and then reads nothing until a line comes on stdin.
# Then it reads everything the server had sent and prints
# {"type": "drained", "messages": N, "closed": true|false}: closed is true
# when the server ended the connection, false when data was still flowing
# after several seconds of quiet.
import json
import socket
import sys

import websocket


def say(obj):
	sys.stdout.write(json.dumps(obj) + "\n")
	sys.stdout.flush()


def main():
	url, token = sys.argv[1], sys.argv[2]
	ws = websocket.create_connection(url, timeout=15,
	    sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
	opened = ws.recv()
	if not opened.startswith("0"):
		say({"type": "error", "message": "no open packet: " + opened})
		return
	ws.send("40" + json.dumps({"token": token}))
	while True:
		p = ws.recv()
		if p.startswith("40"):
			break
		if p.startswith("44"):
			say({"type": "error", "message": p})
			return
	ws.send('42["join_public"]')
	say({"type": "joined"})
	sys.stdin.readline()
	count = 0
	closed = False
	ws.settimeout(5)
	try:
		while True:
			p = ws.recv()
			if p is None or p == "":
				closed = True
				break
			if p.startswith("42"):
				count += 1
			elif p == "2":
				ws.send("3")
	except websocket.WebSocketTimeoutException:
		closed = False
	except (websocket.WebSocketConnectionClosedException, ConnectionError,
	    OSError):
		closed = True
	say({"type": "drained", "messages": count, "closed": closed})


if __name__ == "__main__":
	main()
