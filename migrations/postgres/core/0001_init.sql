-- Business units (tenants) and the run log.
CREATE TABLE business_units (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE runs (
    id           BIGSERIAL PRIMARY KEY,
    unit_id      BIGINT NOT NULL REFERENCES business_units(id),
    run_id       TEXT NOT NULL,
    script       TEXT NOT NULL,
    script_hash  TEXT NOT NULL,
    status       TEXT NOT NULL,
    steps        BIGINT NOT NULL,
    error        TEXT,
    return_value TEXT,
    finished_at  TEXT NOT NULL
);
CREATE INDEX runs_by_unit ON runs (unit_id, id);
