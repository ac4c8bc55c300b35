#!/usr/bin/python3
# sioclient.py -- the python-socketio client (Debian's python3-socketio),
# driven line by line by the notifier tests (tests/api/5xx-notifier-*).
#
# Commands come on stdin, one JSON object a line; what the client sees goes
# to stdout, one JSON object a line, in the order it happened:
#
#   {"op": "connect", "url": U, "headers": {...}, "auth": {...},
#    "transports": ["websocket"] or null}
#       -> {"type": "connect", "sid": S, "transport": T}
#          or {"type": "connect_failed", "message": M}
#   {"op": "emit", "event": E, "data": D, "id": N, "ack": true}
#       -> {"type": "ack", "id": N, "args": [...]} when ack is true
#   {"op": "transport"} -> {"type": "transport", "name": T}
#   {"op": "disconnect"} -> {"type": "disconnect"} (also when the server
#       closes the socket)
#   {"op": "exit"}
#
# Every event the server sends is reported as {"type": "event", "event": E,
# "args": [...]}.  With "strict": true in the connect command, the events
# of the seeds are also handled the way their own clients are written,
# with a handler of exactly one argument (the payload): whatever such a
# handler cannot take is reported as {"type": "handler_error", ...}.
#
# The client never reconnects by itself: the tests decide when.
import json
import sys
import threading

import socketio

out_lock = threading.Lock()


def say(obj):
	with out_lock:
		sys.stdout.write(json.dumps(obj) + "\n")
		sys.stdout.flush()


# The seed events a real 000 or 002 client listens to.
SEED_EVENTS = ("connected", "payload", "user_joined", "user_left",
    "new_public_message", "joined_private", "new_private_message",
    "online_users", "error")


class Driver:
	def __init__(self):
		self.sio = None

	def make(self, strict):
		sio = socketio.Client(reconnection=False)

		@sio.event
		def connect():
			say({"type": "connect", "sid": sio.get_sid(),
			    "transport": sio.transport()})

		@sio.event
		def connect_error(data=None):
			say({"type": "connect_error", "data": data})

		@sio.event
		def disconnect():
			say({"type": "disconnect"})

		@sio.on("*")
		def any_event(event, *args):
			say({"type": "event", "event": event, "args": list(args)})

		if strict:
			for name in SEED_EVENTS:
				sio.on(name, self.one_arg(name))
		return sio

	# A handler written like the seeds' clients: one parameter.
	@staticmethod
	def one_arg(name):
		def handler(data):
			say({"type": "event", "event": name, "args": [data],
			    "strict": True})
		def guarded(*args):
			try:
				return handler(*args)
			except TypeError as e:
				say({"type": "handler_error", "event": name,
				    "args": list(args), "message": str(e)})
		return guarded

	def connect(self, cmd):
		self.sio = self.make(cmd.get("strict", False))
		try:
			self.sio.connect(cmd["url"], headers=cmd.get("headers") or {},
			    auth=cmd.get("auth"), transports=cmd.get("transports"),
			    wait_timeout=cmd.get("wait_timeout", 15))
		except socketio.exceptions.ConnectionError as e:
			say({"type": "connect_failed", "message": str(e)})

	def emit(self, cmd):
		n = cmd.get("id")
		callback = None
		if cmd.get("ack"):
			def callback(*args):
				say({"type": "ack", "id": n, "args": list(args)})
		data = cmd.get("data")
		try:
			if "data" in cmd:
				self.sio.emit(cmd["event"], data, callback=callback)
			else:
				self.sio.emit(cmd["event"], callback=callback)
		except Exception as e:
			say({"type": "emit_failed", "id": n, "message": str(e)})

	def run(self):
		for line in sys.stdin:
			line = line.strip()
			if not line:
				continue
			cmd = json.loads(line)
			op = cmd["op"]
			if op == "connect":
				self.connect(cmd)
			elif op == "emit":
				self.emit(cmd)
			elif op == "transport":
				say({"type": "transport",
				    "name": self.sio.transport() if self.sio else None})
			elif op == "disconnect":
				if self.sio is not None:
					self.sio.disconnect()
			elif op == "exit":
				break
		if self.sio is not None and self.sio.connected:
			self.sio.disconnect()
		say({"type": "exit"})


if __name__ == "__main__":
	Driver().run()
