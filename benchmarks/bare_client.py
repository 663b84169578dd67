"""The wire's reference: sends a list of recorded requests with httpx and nothing else.

    python benchmarks/bare_client.py REQUESTS.json

REQUESTS.json is {"eccp": base URL, "kicox": base URL, "requests": [{platform, method, path, query, headers,
body, status}]}, as `harness.replay` writes it. The requests go out one at a time in their order, on one
keep-alive connection per platform; every answer is read and JSON answers are decoded, as any client must. The
only thing the script works out itself is the ECCP bearer token: the one of its own token request replaces the
recorded one. It prints {"requests", "mismatches", "statuses"} as JSON; a mismatch is an answer whose status
differs from the recorded one.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import httpx


def main(path: str) -> int:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    clients = {name: httpx.Client(base_url=document[name], timeout=60) for name in ("eccp", "kicox")}
    token: str | None = None
    statuses: Counter[str] = Counter()
    mismatches = 0
    try:
        for request in document["requests"]:
            headers = dict(request["headers"])
            if token is not None and headers.get("authorization", "").lower().startswith("bearer "):
                headers["authorization"] = f"Bearer {token}"
            url = request["path"] + (f"?{request['query']}" if request["query"] else "")
            body = request["body"].encode("utf-8", "surrogateescape")
            response = clients[request["platform"]].request(request["method"], url, headers=headers,
                                                            content=body or None)
            if "json" in response.headers.get("content-type", ""):
                decoded = response.json()
                if request["path"] == "/oauth/token" and response.status_code == 200:
                    token = decoded["access_token"]
            statuses[str(response.status_code)] += 1
            mismatches += str(response.status_code) != request["status"]
    finally:
        for client in clients.values():
            client.close()
    print(json.dumps({"requests": len(document["requests"]), "mismatches": mismatches, "statuses": statuses}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
