"""Statements run on Trino with its Python client, one after the other. Reads a JSON request on
stdin and prints one JSON result per statement.

request: {"host", "port", "user", "catalog", "statements": [sql...]}, and for a login over HTTPS
"token" (its JWT), "http_scheme": "https" and "verify" (the CA file the server's certificate must chain to).
"""
import json
import sys

import trino
import trino.auth

req = json.load(sys.stdin)
auth = trino.auth.JWTAuthentication(req["token"]) if req.get("token") is not None else None
conn = trino.dbapi.connect(
    host=req["host"],
    port=req["port"],
    user=req["user"],
    catalog=req["catalog"],
    http_scheme=req.get("http_scheme", "http"),
    auth=auth,
    verify=req.get("verify", True),
    request_timeout=300,
)
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
