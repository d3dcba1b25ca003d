"""Statements run on Trino with its Python client, one after the other. Reads a JSON request on
stdin and prints one JSON result per statement.

request: {"host", "port", "user", "catalog", "statements": [sql...]}
"""
import json
import sys

import trino

req = json.load(sys.stdin)
conn = trino.dbapi.connect(host=req["host"], port=req["port"], user=req["user"], catalog=req["catalog"], http_scheme="http", request_timeout=300)
for sql in req["statements"]:
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
        print(json.dumps({"sql": sql, "ok": True, "rows": rows}, default=str), flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is a result
        # The server's cause chain says what really failed (an unknown host, a refused login).
        causes = []
        info = getattr(e, "failure_info", None) or {}
        while info:
            causes.append(((info.get("type") or "").split(".")[-1] + ": " + (info.get("message") or "")).strip())
            info = info.get("cause")
        print(json.dumps({"sql": sql, "ok": False, "error": getattr(e, "message", None) or str(e), "causes": causes}), flush=True)
