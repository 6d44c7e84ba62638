# c10k: build, test, and run the benchmark suite.
GO       ?= go
BIN      := bin/c10k
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
OUT      ?= results/latest
BENCHFLAGS ?=

.PHONY: all build test vet fmt fuzz gobench bench bench-full bench-smoke plots report peers clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/c10k

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# test: vet plus the whole suite; kept under ~3 minutes on 2 cores.
test: vet
	$(GO) test -count=1 -timeout 10m ./...

# fuzz: a short run of every parser fuzzer (not part of test).
fuzz:
	$(GO) test -run=^$$ -fuzz=FuzzParse$$ -fuzztime=30s ./models/wire
	$(GO) test -run=^$$ -fuzz=FuzzParseResponse$$ -fuzztime=30s ./models/wire

# gobench: the Go micro-benchmarks (allocations on the hot paths).
gobench:
	$(GO) test -run=^$$ -bench=. -benchmem ./...

# bench: the quick suite, then plots and report.
bench: build
	$(BIN) bench -out $(OUT) $(BENCHFLAGS)
	$(BIN) plot -in $(OUT)
	$(BIN) report -in $(OUT) -out REPORT.md

bench-full: build
	$(BIN) bench -full -out $(OUT) $(BENCHFLAGS)
	$(BIN) plot -in $(OUT)
	$(BIN) report -in $(OUT) -out REPORT.md

plots: build
	$(BIN) plot -in $(OUT)

report: build
	$(BIN) report -in $(OUT) -out REPORT.md

# peers: nginx and Apache httpd (prefork, worker, event) as reference servers.
peers:
	sh scripts/install-peers.sh

clean:
	rm -rf bin
