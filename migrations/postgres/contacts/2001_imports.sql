-- Bulk imports of contacts: saved import profiles, import jobs with their
-- progress, and each job's log of rejected rows. A job's progress (rows
-- done, the last file line committed, the counts) is written in the same
-- transaction as the batch it describes, so a job resumed after a crash
-- starts exactly after what was committed.

CREATE TABLE import_profiles (
    id          BIGSERIAL PRIMARY KEY,
    unit_id     BIGINT NOT NULL REFERENCES business_units(id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    profile     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (unit_id, name_key)
);

CREATE TABLE import_jobs (
    id           BIGSERIAL PRIMARY KEY,
    unit_id      BIGINT NOT NULL REFERENCES business_units(id),
    status       TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    checksum     TEXT NOT NULL,
    profile      TEXT NOT NULL,
    rows_total   BIGINT NOT NULL DEFAULT 0,
    rows_done    BIGINT NOT NULL DEFAULT 0,
    last_line    BIGINT NOT NULL DEFAULT 0,
    created      BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    orgs_created BIGINT NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   TEXT NOT NULL,
    modified_at  TEXT NOT NULL
);
CREATE INDEX import_jobs_unit ON import_jobs (unit_id, id);

CREATE TABLE import_job_log (
    id      BIGSERIAL PRIMARY KEY,
    unit_id BIGINT NOT NULL REFERENCES business_units(id),
    job_id  BIGINT NOT NULL REFERENCES import_jobs(id),
    line    BIGINT NOT NULL,
    reason  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX import_job_log_job ON import_job_log (job_id, line);
