-- Users of a business unit with their roles (a JSON list of role names),
-- and the unit's settings (its top supervisor, ...). Nothing crosses units.
CREATE TABLE unit_users (
    id          BIGSERIAL PRIMARY KEY,
    unit_id     BIGINT NOT NULL REFERENCES business_units(id),
    name        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (unit_id, name)
);

CREATE TABLE unit_settings (
    unit_id BIGINT NOT NULL REFERENCES business_units(id),
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (unit_id, name)
);
