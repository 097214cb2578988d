# syntax=docker/dockerfile:1
# Build: a static binary with module and build caches.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/referral-adapter ./cmd/referral-adapter

# Run: distroless static, non-root, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/referral-adapter /usr/local/bin/referral-adapter
USER nonroot:nonroot
# As the Helm chart's default (charts/referral-adapter/values.yaml gogc).
ENV GOGC=200
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/referral-adapter"]
CMD ["serve"]
