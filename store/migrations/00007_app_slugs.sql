-- The slugs an app was given (uploaded to it, or built by a push of it):
-- content-addressed slugs are shared on disk, but an app reaches only
-- those it has, and a build may name only those.

-- +goose Up
CREATE TABLE app_slugs (
    app     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    sha256  TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (app, sha256)
);
-- The slugs builds already use stay their apps'.
INSERT INTO app_slugs (app, sha256, created)
    SELECT app, slug_sha256, MIN(created) FROM builds WHERE slug_sha256 <> '' GROUP BY app, slug_sha256;

-- +goose Down
DROP TABLE app_slugs;
