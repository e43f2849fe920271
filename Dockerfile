# fluxvet for GitLab CI and other container runners: a static musl binary on Alpine. Alpine,
# not scratch or distroless, because GitLab's Docker executor runs the job's script with a shell.
#   docker build -t fluxvet .
#   docker run --rm -v "$PWD:/repo" -w /repo fluxvet check
FROM rust:1-alpine AS build
# The C parts of libgit2 and mimalloc; Alpine's Rust targets musl and links statically.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Every target Cargo.toml names must exist for the manifest to load.
COPY benches ./benches
COPY examples ./examples
COPY tests/it ./tests/it
RUN cargo build --release --locked --bin fluxvet \
 && strip target/release/fluxvet \
 && ! ldd target/release/fluxvet 2>/dev/null | grep -q '=>'

FROM alpine:3.22
COPY --from=build /src/target/release/fluxvet /usr/local/bin/fluxvet
RUN fluxvet --version
WORKDIR /repo
ENTRYPOINT ["fluxvet"]
CMD ["check"]
