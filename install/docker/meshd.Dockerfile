# meshd, the control plane, as the image `manifest generate` renders: {hub}/meshd:{tag}.
# Build from the repository root:
#   docker build -f install/docker/meshd.Dockerfile -t ghcr.io/meshctl/meshd:0.1.0 .
# CI does not build it (there is no registry to push to); install-profiles/README.md says how
# to point an install at your own build.

FROM debian:12 AS build
WORKDIR /src
# scripts/setup installs the Debian build dependencies and the pinned Envoy API protos (npm).
COPY scripts/setup scripts/setup
COPY package.json package-lock.json ./
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates && scripts/setup
COPY . .
# The configure-and-build scripts/build does, for the one program this image holds (scripts/build
# builds every target, tests included).
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && ninja -C /build meshd && \
    install/docker/runtime-packages.sh /build/controlplane/meshd > /build/runtime-packages

FROM debian:12-slim
COPY --from=build /build/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq && \
    xargs -a /tmp/runtime-packages apt-get install -y -qq --no-install-recommends && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages && \
    groupadd --gid 1337 meshd && useradd --uid 1337 --gid 1337 --no-create-home --shell /usr/sbin/nologin meshd
COPY --from=build /build/controlplane/meshd /usr/local/bin/meshd
USER 1337:1337
# xDS (plaintext gRPC), monitoring (/ready, /metrics). The debug API (15015) stays on loopback.
EXPOSE 15010 15014
ENTRYPOINT ["/usr/local/bin/meshd"]
