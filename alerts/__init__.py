"""The alert stage: watchlists and emerging methods, evaluated after every indexed batch and
delivered to webhooks, e-mail and JSON-lines files.

- :mod:`~alerts.rules`: what a rule is (validated), seeding from watchlists.yaml;
- :mod:`~alerts.evaluate`: watchlists over newly indexed documents (high-water mark);
- :mod:`~alerts.emerging`: rises of methods and new phrases, with backtesting;
- :mod:`~alerts.dispatch` and :mod:`~alerts.sinks`: rate limits, digests,
  retries, dead letters; webhook, e-mail, file;
- :mod:`~alerts.service`: the object the CLI wires into the enrichment worker.

State lives in the control store (:mod:`alerts.state`).
"""

from __future__ import annotations
