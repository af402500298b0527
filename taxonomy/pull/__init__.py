"""Stage 0, pull: vendor APIs (Intercom, Zendesk) in, landing files out.

For customers without an export job, the DAG's ``extract`` task pulls each day's conversations
into ``<landing>/<customer_id>/<YYYY-MM-DD>/`` where ingestion reads them.

- :mod:`~taxonomy.pull.http`: retries, rate limits, timeouts.
- :mod:`~taxonomy.pull.sources`: the sources file and credentials (Airflow Connections).
- :mod:`~taxonomy.pull.intercom`, :mod:`~taxonomy.pull.zendesk`: paging.
- :mod:`~taxonomy.pull.extract`: drives them and lands the pages atomically.
"""

from __future__ import annotations

from taxonomy.pull.extract import PullResult, extract_for_interval, pull_cli, pull_customer, pulled_through
from taxonomy.pull.sources import Credentials, Source, ingest_options, load_sources

__all__ = ["Credentials", "PullResult", "Source", "extract_for_interval", "ingest_options", "load_sources",
           "pull_cli", "pull_customer", "pulled_through"]
