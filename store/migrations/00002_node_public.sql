-- Nodes of the docker provider publish their HTTP on a loopback port of the
-- controller's host: where users reach a proxy node can differ from where
-- the controller reaches its sshd.

-- +goose Up
ALTER TABLE nodes ADD COLUMN public TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE nodes DROP COLUMN public;
