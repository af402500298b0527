"""Connectors that pull support conversations from vendor APIs (Intercom, Zendesk).

- :mod:`taxonomy.connectors.http`: retries, rate limits, timeouts.
- :mod:`taxonomy.connectors.sources`: the sources file and credentials.
- :mod:`taxonomy.connectors.intercom`, :mod:`taxonomy.connectors.zendesk`: paging.

:mod:`taxonomy.pull` drives them and lands the pages.
"""
