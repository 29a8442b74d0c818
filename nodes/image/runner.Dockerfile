# The runner image: what slugs run in on runtime nodes. A slug (a tar.gz of
# /app) is copied into each container before it starts.
ARG BASE
FROM ${BASE}
# nodejs: Node slugs run on the runner's node (Debian's cannot be moved
# into a slug); Go, Python and static slugs bring what they run.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates nodejs \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN mkdir -p /app
WORKDIR /app
ENV HOME=/app PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
