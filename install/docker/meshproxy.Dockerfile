# meshproxy, the data plane, as the gateway image `manifest generate` renders:
# {hub}/meshproxy:{tag}. Build from the repository root:
#   docker build -f install/docker/meshproxy.Dockerfile -t ghcr.io/meshctl/meshproxy:0.1.0 .
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
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && ninja -C /build meshproxy && \
    install/docker/runtime-packages.sh /build/proxy/meshproxy > /build/runtime-packages

FROM debian:12-slim
COPY --from=build /build/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq && \
    xargs -a /tmp/runtime-packages apt-get install -y -qq --no-install-recommends && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages && \
    groupadd --gid 1337 istio-proxy && \
    useradd --uid 1337 --gid 1337 --no-create-home --shell /usr/sbin/nologin istio-proxy
COPY --from=build /build/proxy/meshproxy /usr/local/bin/meshproxy
# 1337 is the user Istio's traffic capture exempts, so the proxy's own traffic is not looped back.
USER 1337:1337
# Outbound and inbound capture, health (/healthz/ready), Prometheus, and the gateway's HTTP and
# HTTPS container ports. The admin port (15000) stays on loopback.
EXPOSE 15001 15006 15021 15090 8080 8443
ENTRYPOINT ["/usr/local/bin/meshproxy"]
