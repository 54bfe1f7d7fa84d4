# Multi-stage build: compile in the Rust image, run from a slim Debian with a non-root user.
# The database lives on the /data volume; the example rules are copied in and can be
# replaced by mounting a file over /etc/steward/rules.yaml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY migrations migrations
COPY lists lists
COPY rules.example.yaml ./
RUN cargo build --release --locked --bin steward

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data steward \
    && mkdir -p /data /etc/steward \
    && chown steward /data
COPY --from=build /src/target/release/steward /usr/local/bin/steward
COPY rules.example.yaml /etc/steward/rules.yaml
USER steward
WORKDIR /data
VOLUME /data
ENV DATABASE_URL=sqlite:///data/steward.db \
    STEWARD_RULES=/etc/steward/rules.yaml \
    RUST_LOG=info
ENTRYPOINT ["steward"]
CMD ["run"]
