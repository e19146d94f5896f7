-- A destination's calling window is the skill's windows held in the zones
-- of the number and of its record; both are stored already, so the window
-- is derived when read instead of being copied into every destination.
ALTER TABLE destinations DROP COLUMN call_window;
