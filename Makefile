# Makefile for deis. `make build` puts the three binaries in bin/.
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test demo bench fmt vet

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/deis ./cmd/deis-controller
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/deis-node

test:
	./scripts/test.sh

demo:
	./scripts/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./api/ ./store/

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
