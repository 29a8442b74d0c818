-- Nodes of a cloud reach each other on their private addresses: the
-- security group that opens the container ports to the formation's own
-- nodes only applies to traffic between private addresses, while the
-- controller may reach a node on its public one.

-- +goose Up
ALTER TABLE nodes ADD COLUMN private TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE nodes DROP COLUMN private;
