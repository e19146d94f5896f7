-- Contacts: external sources, contact types with their custom fields,
-- organizations, contacts with their phones, emails, external IDs and
-- notes, and the unit's contacts settings. Every row carries the business
-- unit it belongs to; every query filters on it. A contact's record (the
-- anchor's fields, as JSON) is in `contacts.record`; its phones and emails
-- are also rows of their own, which the searches use.

CREATE TABLE contacts_settings (
    unit_id         INTEGER PRIMARY KEY REFERENCES business_units(id),
    default_country TEXT NOT NULL DEFAULT 'US',
    modified_at     TEXT NOT NULL
);

CREATE TABLE external_sources (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (unit_id, name_key)
);

CREATE TABLE contact_types (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (unit_id, name_key)
);

CREATE TABLE contact_type_fields (
    id       INTEGER PRIMARY KEY,
    unit_id  INTEGER NOT NULL REFERENCES business_units(id),
    type_id  INTEGER NOT NULL REFERENCES contact_types(id),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    allowed  TEXT NOT NULL DEFAULT '[]',
    UNIQUE (type_id, position)
);

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES business_units(id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    external_id TEXT,
    record      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (unit_id, external_id)
);
CREATE INDEX organizations_name ON organizations (unit_id, name_key);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES business_units(id),
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    first_key   TEXT NOT NULL,
    last_key    TEXT NOT NULL,
    org_id      INTEGER REFERENCES organizations(id),
    record      TEXT NOT NULL,
    external_ids TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE INDEX contacts_name ON contacts (unit_id, last_key, first_key);

CREATE TABLE contact_phones (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES business_units(id),
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    field       TEXT NOT NULL,
    display     TEXT NOT NULL,
    e164        TEXT,
    extension   TEXT,
    sms_enabled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX contact_phones_e164 ON contact_phones (unit_id, e164);
CREATE INDEX contact_phones_contact ON contact_phones (contact_id);

CREATE TABLE contact_emails (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    field      TEXT NOT NULL,
    email      TEXT NOT NULL,
    email_key  TEXT NOT NULL
);
CREATE INDEX contact_emails_key ON contact_emails (unit_id, email_key);
CREATE INDEX contact_emails_contact ON contact_emails (contact_id);

CREATE TABLE contact_external_ids (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES business_units(id),
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    source_id   INTEGER NOT NULL REFERENCES external_sources(id),
    external_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (unit_id, source_id, external_id)
);
CREATE INDEX contact_external_ids_any ON contact_external_ids (unit_id, external_id);
CREATE INDEX contact_external_ids_contact ON contact_external_ids (contact_id);

CREATE TABLE contact_notes (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES business_units(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX contact_notes_contact ON contact_notes (unit_id, contact_id);
