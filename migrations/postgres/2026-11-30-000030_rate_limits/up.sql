-- Rate-limit counts shared by every instance: attempts per key in fixed windows.
-- UNLOGGED: the counts are worth nothing after a crash, and a commit that touched only
-- this table need not wait for a WAL flush, so counting an attempt stays cheap.
CREATE UNLOGGED TABLE rate_limits (
    key TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
