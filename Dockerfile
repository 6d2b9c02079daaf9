# syntax=docker/dockerfile:1.7
#
# One image with every Taskflow binary; the Helm chart picks the binary per
# service (/usr/local/bin/taskflow-api, ...). Build from the repository root:
#   docker build -t taskflow:dev .
#
# Stage 1 compiles with cargo's registry and target directory in BuildKit
# cache mounts, so a rebuild recompiles only what changed. Stage 2 is
# distroless: glibc, libgcc, CA certificates and tzdata, no shell, no package
# manager, user 65532 (nonroot).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# The binaries the image must contain: the build fails if one is missing.
ARG BINARIES="taskflow taskflow-api taskflow-mcp taskflow-recurrence taskflow-reminders taskflow-sse taskflow-webhooks"
WORKDIR /src
COPY . .
# No system libraries are needed beyond the C compiler of this image (TLS, to
# send webhooks, is rustls with bundled roots; its ring compiles with that
# compiler). The target directory is a cache mount, so the binaries are
# copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bins -p taskflow \
    && mkdir -p /out/bin /out/data \
    && for bin in ${BINARIES}; do cp "target/release/${bin}" /out/bin/; done

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="taskflow" \
      org.opencontainers.image.description="Taskflow: an event-driven task system (every service in one image)" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/bin/ /usr/local/bin/
# The data directory of the embedded mode (`taskflow serve`), owned by nonroot.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# In a container every service listens on all interfaces; the embedded mode
# keeps its SQLite database in /data (mount a volume there).
ENV TASKFLOW_LISTEN=0.0.0.0:8080 \
    TASKFLOW_DATA_DIR=/data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/taskflow"]
CMD ["serve"]
