-- Outbound: skills, sources, user fields, versioned source maps, prospects
-- with their destinations, and lead-source records. Every row carries the
-- business unit it belongs to; every query filters on it.

CREATE TABLE outbound_skills (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES business_units(id),
    skill_no         INTEGER NOT NULL,
    name             TEXT NOT NULL,
    channel          TEXT NOT NULL DEFAULT 'phone',
    max_destinations INTEGER NOT NULL DEFAULT 6,
    threshold        INTEGER NOT NULL DEFAULT 0,
    allowed_zones    TEXT NOT NULL DEFAULT '[]',
    windows          TEXT NOT NULL DEFAULT '',
    filter_fields    TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL,
    UNIQUE (unit_id, skill_no)
);

CREATE TABLE sources (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (unit_id, name_key)
);

CREATE TABLE user_fields (
    id             INTEGER PRIMARY KEY,
    unit_id        INTEGER NOT NULL REFERENCES business_units(id),
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    data_type      TEXT NOT NULL,
    default_value  TEXT,
    value_required INTEGER NOT NULL DEFAULT 0,
    associations   TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    UNIQUE (unit_id, name_key)
);

CREATE TABLE source_maps (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    source_id  INTEGER NOT NULL REFERENCES sources(id),
    version    INTEGER NOT NULL,
    mapping    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (source_id, version)
);

CREATE TABLE prospects (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES business_units(id),
    source_id   INTEGER NOT NULL REFERENCES sources(id),
    external_id TEXT NOT NULL,
    skill_no    INTEGER NOT NULL,
    first_name  TEXT,
    last_name   TEXT,
    fields      TEXT NOT NULL,
    expires_at  TEXT,
    time_zone   TEXT NOT NULL,
    tz_source   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (source_id, external_id)
);
CREATE INDEX prospects_by_skill ON prospects (unit_id, skill_no, status, expires_at);
CREATE INDEX prospects_by_name ON prospects (source_id, last_name, first_name);

CREATE TABLE destinations (
    prospect_id INTEGER NOT NULL REFERENCES prospects(id) ON DELETE CASCADE,
    ordinal     INTEGER NOT NULL,
    unit_id     INTEGER NOT NULL,
    field       TEXT NOT NULL,
    e164        TEXT NOT NULL,
    raw         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    time_zone   TEXT,
    tz_source   TEXT NOT NULL,
    call_window TEXT,
    companions  TEXT,
    PRIMARY KEY (prospect_id, ordinal)
) WITHOUT ROWID;
CREATE INDEX destinations_by_number ON destinations (unit_id, e164);

CREATE TABLE lead_records (
    id             INTEGER PRIMARY KEY,
    unit_id        INTEGER NOT NULL REFERENCES business_units(id),
    lead_source    TEXT NOT NULL,
    record_key     TEXT NOT NULL,
    fields         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'waiting',
    checked_out_by TEXT,
    lease_until    TEXT,
    outcome        TEXT,
    checked_in_at  TEXT,
    UNIQUE (unit_id, lead_source, record_key)
);
CREATE INDEX lead_records_waiting ON lead_records (unit_id, lead_source, status, id);
