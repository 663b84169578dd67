"""dlt's side of figure 6: its REST API source pulls ECCP's JSON:API listing of natives into its default
destination (duckdb), as a process of its own.

    python benchmarks/dlt_pull.py BASE_URL CLIENT_ID CLIENT_SECRET FOLDER

OAuth2 client credentials at /oauth/token, the native listing (field_origin "eccp") 50 to a page following
`links.next.href`, records under `data`. Prints {"rows": records loaded} as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def main(base_url: str, client_id: str, client_secret: str, folder: str) -> int:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    config: Any = {
        "client": {
            "base_url": base_url,
            "auth": {"type": "oauth2_client_credentials", "access_token_url": f"{base_url}/oauth/token",
                     "client_id": client_id, "client_secret": client_secret},
            "paginator": {"type": "json_link", "next_url_path": "links.next.href"},
        },
        "resources": [{
            "name": "clusters",
            "endpoint": {"path": "jsonapi/node/cluster_organisation", "data_selector": "data",
                         "params": {"filter[field_origin]": "eccp", "page[limit]": 50}},
        }],
    }
    destination = dlt.destinations.duckdb(str(Path(folder) / "pull.duckdb"))
    pipeline = dlt.pipeline(pipeline_name="eccp_pull", destination=destination, dataset_name="eccp_listing",
                            pipelines_dir=str(Path(folder) / "pipelines"))
    pipeline.run(rest_api_source(config))
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM clusters")
    print(json.dumps({"rows": int(rows[0][0]) if rows else 0}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:5]))
