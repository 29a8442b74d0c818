-- The controller's schema. It runs unchanged on SQLite and PostgreSQL, so it
-- uses only TEXT, INTEGER, BIGINT and BOOLEAN. Times are BIGINT microseconds
-- since the Unix epoch (UTC). Columns named creds, vals and ssh_private_key
-- hold sealed (encrypted) text, never clear values.

-- +goose Up
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    email    TEXT NOT NULL DEFAULT '',
    password TEXT NOT NULL,
    admin    BOOLEAN NOT NULL DEFAULT FALSE,
    created  BIGINT NOT NULL
);

CREATE TABLE tokens (
    hash     TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    expires  BIGINT NOT NULL,
    created  BIGINT NOT NULL
);
CREATE INDEX tokens_username ON tokens (username);

CREATE TABLE ssh_keys (
    owner       TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,
    created     BIGINT NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE providers (
    owner   TEXT NOT NULL REFERENCES users (username),
    id      TEXT NOT NULL,
    type    TEXT NOT NULL,
    creds   TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE flavors (
    owner    TEXT NOT NULL,
    id       TEXT NOT NULL,
    provider TEXT NOT NULL,
    params   TEXT NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    PRIMARY KEY (owner, id),
    FOREIGN KEY (owner, provider) REFERENCES providers (owner, id)
);
CREATE INDEX flavors_provider ON flavors (owner, provider);

CREATE TABLE formations (
    id      TEXT PRIMARY KEY,
    owner   TEXT NOT NULL REFERENCES users (username),
    domain  TEXT NOT NULL DEFAULT '',
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX formations_owner ON formations (owner);

CREATE TABLE layers (
    formation       TEXT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    flavor          TEXT NOT NULL,
    proxy           BOOLEAN NOT NULL,
    runtime         BOOLEAN NOT NULL,
    ssh_user        TEXT NOT NULL,
    ssh_port        INTEGER NOT NULL,
    ssh_public_key  TEXT NOT NULL,
    ssh_private_key TEXT NOT NULL,
    created         BIGINT NOT NULL,
    updated         BIGINT NOT NULL,
    PRIMARY KEY (formation, id)
);
CREATE INDEX layers_flavor ON layers (flavor);

CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    formation   TEXT NOT NULL,
    layer       TEXT NOT NULL,
    num         INTEGER NOT NULL,
    provider_id TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    host_key    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    UNIQUE (formation, layer, num),
    FOREIGN KEY (formation, layer) REFERENCES layers (formation, id) ON DELETE CASCADE
);

CREATE TABLE apps (
    id        TEXT PRIMARY KEY,
    formation TEXT NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    owner     TEXT NOT NULL REFERENCES users (username),
    structure TEXT NOT NULL,
    created   BIGINT NOT NULL,
    updated   BIGINT NOT NULL
);
CREATE INDEX apps_formation ON apps (formation);
CREATE INDEX apps_owner ON apps (owner);

CREATE TABLE collaborators (
    app      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created  BIGINT NOT NULL,
    PRIMARY KEY (app, username)
);
CREATE INDEX collaborators_username ON collaborators (username);

CREATE TABLE configs (
    app     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    vals    TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (app, version)
);

CREATE TABLE builds (
    uuid        TEXT PRIMARY KEY,
    app         TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    num         INTEGER NOT NULL,
    owner       TEXT NOT NULL,
    sha         TEXT NOT NULL DEFAULT '',
    slug_url    TEXT NOT NULL,
    slug_size   BIGINT NOT NULL DEFAULT 0,
    slug_sha256 TEXT NOT NULL DEFAULT '',
    procfile    TEXT NOT NULL,
    buildpack   TEXT NOT NULL DEFAULT '',
    created     BIGINT NOT NULL,
    UNIQUE (app, num)
);

CREATE TABLE releases (
    app     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    build   TEXT NOT NULL DEFAULT '',
    config  INTEGER NOT NULL,
    status  TEXT NOT NULL,
    owner   TEXT NOT NULL,
    summary TEXT NOT NULL,
    error   TEXT NOT NULL DEFAULT '',
    created BIGINT NOT NULL,
    PRIMARY KEY (app, version)
);

CREATE TABLE containers (
    app       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    proc_type TEXT NOT NULL,
    num       INTEGER NOT NULL,
    release   INTEGER NOT NULL,
    node      TEXT NOT NULL DEFAULT '',
    port      INTEGER NOT NULL DEFAULT 0,
    state     TEXT NOT NULL DEFAULT '',
    health    TEXT NOT NULL DEFAULT '',
    created   BIGINT NOT NULL,
    PRIMARY KEY (app, proc_type, num)
);

CREATE TABLE jobs (
    id       TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    owner    TEXT NOT NULL DEFAULT '',
    state    TEXT NOT NULL,
    error    TEXT NOT NULL DEFAULT '',
    created  BIGINT NOT NULL,
    finished BIGINT
);
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE job_lines (
    job  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq  INTEGER NOT NULL,
    at   BIGINT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (job, seq)
);

-- +goose Down
DROP TABLE job_lines;
DROP TABLE jobs;
DROP TABLE containers;
DROP TABLE releases;
DROP TABLE builds;
DROP TABLE configs;
DROP TABLE collaborators;
DROP TABLE apps;
DROP TABLE nodes;
DROP TABLE layers;
DROP TABLE formations;
DROP TABLE flavors;
DROP TABLE providers;
DROP TABLE ssh_keys;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE meta;
