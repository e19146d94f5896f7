-- Phone searches (GETPROSPECT by PhoneNumber) are scoped to a source and
-- probe each of its prospects' destinations by primary key; they never used
-- this index. Keeping it made every load rewrite pages all over a
-- randomly-keyed B-tree: on SQLite a 100,000-record load ran at less than
-- half the speed with it.
DROP INDEX IF EXISTS destinations_by_number;
