#!/usr/bin/env python3
"""Proof that the cluster keeps durable, confirmed messages (the Ansible side of npm run bench; what rmqplay's
amqp_verify does): log in to every node, declare a durable quorum queue (unique per run) through the first,
publish N persistent mandatory messages with publisher confirms through it (pipelined, as rmqplay does), consume
them through the second node and check that each arrived exactly once with the same bytes; delete the queue.
The password comes from the environment (AMQP_PASSWORD), never from the command line. Needs python3-pika.

    AMQP_PASSWORD=... python3 amqp_verify.py --user U [--vhost /] [--messages 1000] HOST:PORT HOST:PORT...
"""
import argparse
import hashlib
import json
import os
import sys
import time
import uuid

import pika


def params(node, user, password, vhost):
    host, _, port = node.rpartition(":")
    return pika.ConnectionParameters(
        host=host,
        port=int(port),
        virtual_host=vhost,
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=3,
        retry_delay=1,
        blocked_connection_timeout=30,
    )


def publish_confirmed(p, queue, bodies, timeout):
    """Publishes every body without waiting between them and collects the broker's confirms and returns."""
    state = {"pending": set(range(1, len(bodies) + 1)), "nacked": set(), "returned": set(), "error": None}

    def done(conn):
        if conn.is_open:
            conn.close()

    def on_confirm(frame):
        m = frame.method
        tags = [t for t in state["pending"] if t <= m.delivery_tag] if m.multiple else [m.delivery_tag]
        for t in tags:
            state["pending"].discard(t)
            if isinstance(m, pika.spec.Basic.Nack):
                state["nacked"].add(t)
        if not state["pending"]:
            done(conn)

    def on_return(_ch, _method, props, _body):
        state["returned"].add(props.message_id)

    def send_all(ch):
        for i, body in enumerate(bodies):
            props = pika.BasicProperties(delivery_mode=2, message_id=str(i))
            ch.basic_publish("", queue, body, props, mandatory=True)

    def on_channel(ch):
        ch.add_on_return_callback(on_return)
        ch.confirm_delivery(on_confirm, callback=lambda _frame: send_all(ch))

    def on_error(_conn, err):
        state["error"] = str(err)
        conn.ioloop.stop()

    def on_timeout():
        state["error"] = f"{len(state['pending'])} confirms missing after {timeout} s"
        done(conn)

    conn = pika.SelectConnection(
        p,
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=on_error,
        on_close_callback=lambda c, _reason: c.ioloop.stop(),
    )
    conn.ioloop.call_later(timeout, on_timeout)
    conn.ioloop.start()
    return state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--vhost", default="/")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("nodes", nargs="+")
    a = ap.parse_args()
    password = os.environ.get("AMQP_PASSWORD")
    if password is None:
        sys.exit("amqp_verify: set AMQP_PASSWORD")
    start = time.monotonic()

    # Log in to every node.
    conns = {}
    for node in a.nodes:
        try:
            conns[node] = pika.BlockingConnection(params(node, a.user, password, a.vhost))
        except Exception as e:  # noqa: BLE001 (each failure is reported with its node)
            sys.exit(f"amqp_verify: cannot log in to {node}: {e!r}")
    src, dst = a.nodes[0], a.nodes[1 % len(a.nodes)]
    queue = f"rmqplay-verify-{uuid.uuid4()}"
    ch = conns[src].channel()
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})

    bodies = [os.urandom(64 + i % 192) for i in range(a.messages)]
    digests = {str(i): hashlib.sha256(b).hexdigest() for i, b in enumerate(bodies)}
    st = publish_confirmed(params(src, a.user, password, a.vhost), queue, bodies, a.timeout)
    problems = []
    if st["error"]:
        problems.append(st["error"])
    if st["nacked"] or st["returned"]:
        problems.append(f"{len(st['nacked'])} nacked, {len(st['returned'])} returned")

    # Consume through another node: each message exactly once, with the same bytes.
    seen = {}
    cch = conns[dst].channel()
    cch.basic_qos(prefetch_count=500)
    for method, props, body in cch.consume(queue, inactivity_timeout=a.timeout):
        if method is None:
            break
        mid = props.message_id
        seen[mid] = seen.get(mid, 0) + 1
        if digests.get(mid) != hashlib.sha256(body).hexdigest():
            problems.append(f"message {mid} arrived with other bytes")
        cch.basic_ack(method.delivery_tag)
        if sum(seen.values()) >= a.messages:
            break
    cch.cancel()
    missing = [m for m in digests if m not in seen]
    twice = [m for m, n in seen.items() if n > 1]
    if missing or twice:
        problems.append(f"{len(missing)} missing, {len(twice)} delivered more than once")
    ch.queue_delete(queue)
    for c in conns.values():
        c.close()

    report = {"nodes": len(a.nodes), "messages": a.messages, "via": [src, dst], "seconds": time.monotonic() - start}
    if problems:
        sys.exit("amqp_verify: " + "; ".join(problems) + " " + json.dumps(report))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
