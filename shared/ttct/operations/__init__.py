"""Running a service: settings, the runtime (database, NATS, relay, consumers, health), schema migration, logs, traces and metrics."""
