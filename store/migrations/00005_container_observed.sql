-- What the node's engine last said of each container (on a converge or a
-- refresh): its state there, the exit code of its last exit, how often the
-- engine restarted it, when it last exited, and when this was seen.

-- +goose Up
ALTER TABLE containers ADD COLUMN observed TEXT NOT NULL DEFAULT '';
ALTER TABLE containers ADD COLUMN exit_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN died BIGINT NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN checked BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE containers DROP COLUMN checked;
ALTER TABLE containers DROP COLUMN died;
ALTER TABLE containers DROP COLUMN restarts;
ALTER TABLE containers DROP COLUMN exit_code;
ALTER TABLE containers DROP COLUMN observed;
