-- The address book of each business unit (contacts.md §4): one row per
-- recipient, keyed by its email with case ignored (`email_key`), the email
-- itself kept as written. The statuses are three flags; `import_name` is
-- the import that last wrote the recipient (NULL when none did).

CREATE TABLE address_book (
    id          BIGSERIAL PRIMARY KEY,
    unit_id     BIGINT NOT NULL REFERENCES business_units(id),
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL,
    civility    TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    department  TEXT NOT NULL,
    phone       TEXT NOT NULL,
    address     TEXT NOT NULL,
    city        TEXT NOT NULL,
    is_expert   BIGINT NOT NULL,
    is_copy     BIGINT NOT NULL,
    is_transfer BIGINT NOT NULL,
    import_name TEXT,
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (unit_id, email_key)
);
