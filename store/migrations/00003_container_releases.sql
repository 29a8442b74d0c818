-- During a rollout an app runs the containers of two releases side by side
-- (web.1 of v3 beside web.1 of v4), and a rebalance may run one release's
-- web.1 on two nodes for a moment: a container is identified by all of
-- app, type, number, release and node.

-- +goose Up
CREATE TABLE containers_new (
    app       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    proc_type TEXT NOT NULL,
    num       INTEGER NOT NULL,
    release   INTEGER NOT NULL,
    node      TEXT NOT NULL DEFAULT '',
    port      INTEGER NOT NULL DEFAULT 0,
    state     TEXT NOT NULL DEFAULT '',
    health    TEXT NOT NULL DEFAULT '',
    created   BIGINT NOT NULL,
    PRIMARY KEY (app, proc_type, num, release, node)
);
INSERT INTO containers_new SELECT app, proc_type, num, release, node, port, state, health, created FROM containers;
DROP TABLE containers;
ALTER TABLE containers_new RENAME TO containers;
CREATE INDEX containers_node ON containers (node);

-- +goose Down
DROP INDEX containers_node;
