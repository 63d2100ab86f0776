"""The shared core of the training-centre services, in seven parts:

- `ttct.contracts`: the published event contracts, one module per event, with the envelope and upcasters;
- `ttct.domain`: what every service's domain shares: refusals (English and Vietnamese) and the If-Match version check;
- `ttct.eventsourcing`: the event store and its outbox, the relay, ordered exactly-once consumers, aggregates,
  the JetStream topology and NATS users;
- `ttct.http`: the API's conventions: app factory, problems, authentication, limits, Idempotency-Key, If-Match,
  pagination;
- `ttct.privacy`: personal-data protection: sealing with per-learner keys, the access log, row-level security;
- `ttct.operations`: running a service: settings, the runtime, schema migration, logs, traces, metrics;
- `ttct.admin`: operator commands (`python -m ttct.admin <service> <command>`).
"""
