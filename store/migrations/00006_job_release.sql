-- A job that makes a release (config, build, rollback) records its version.

-- +goose Up
ALTER TABLE jobs ADD COLUMN release INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE jobs DROP COLUMN release;
