-- The same table as on PostgreSQL. A SQLite database serves one instance, whose limits
-- are kept in memory, so nothing writes here; it exists so that both schemas agree.
CREATE TABLE rate_limits (
    key TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
