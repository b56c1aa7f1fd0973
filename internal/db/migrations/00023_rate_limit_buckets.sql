-- +goose Up
-- Per-client rate-limit state shared by every `serve` process on this
-- database (issue 16, Past one machine), as sessions and the login throttle
-- already are: one GCRA token bucket per rate-limit class and client
-- address. tat is the bucket's theoretical arrival time: the bucket is full
-- when tat <= now, and a request is allowed while
-- greatest(tat, now) + 1/rate - now <= burst/rate. UNLOGGED: the state is
-- worth seconds, a crash that empties it only forgives some clients, and it
-- costs no WAL (and is not replicated to standbys, which never write it).
-- Rows idle for 10 minutes are deleted by the servers now and then.
CREATE UNLOGGED TABLE villageplan.rate_limit_buckets (
    class text NOT NULL,
    client text NOT NULL,
    tat timestamptz NOT NULL,
    allowed boolean NOT NULL,
    PRIMARY KEY (class, client)
);

-- +goose Down
DROP TABLE villageplan.rate_limit_buckets;
