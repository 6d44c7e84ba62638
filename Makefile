# c10k: build, test, and run the benchmark suite.
GO       ?= go
BIN      := bin/c10k
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
OUT      ?= results/latest
BENCHFLAGS ?=
# SCALE_OUT is where make bench-scale writes its run; the report takes the
# scale scenario from it whenever it holds one.
SCALE_OUT ?= results/scale
SCALE_FLAG = $(if $(wildcard $(SCALE_OUT)/run.json),-scale $(SCALE_OUT))
# SERVER_HOST and LOAD_HOSTS put the servers and the load on other hosts:
# local, netns:NAME or ssh://[user@]host[:port] (LOAD_HOSTS comma-separated);
# SSH_CONFIG is an ssh_config file for the ssh ones (default: yours).
SERVER_HOST ?=
LOAD_HOSTS  ?=
SSH_CONFIG  ?=
HOSTFLAGS = $(if $(SERVER_HOST),-server-host $(SERVER_HOST)) $(if $(LOAD_HOSTS),-load-hosts $(LOAD_HOSTS)) $(if $(SSH_CONFIG),-ssh-config $(SSH_CONFIG))
# NETNS_OUT is where make bench-netns writes its run and its report.
NETNS_OUT ?= results/netns

.PHONY: all build test vet fmt fuzz gobench bench bench-full bench-scale bench-netns bench-smoke plots report peers clean

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

# bench: the quick suite, then plots and report (with the scale run's
# section when $(SCALE_OUT) holds one).
bench: build
	$(BIN) bench -out $(OUT) $(HOSTFLAGS) $(BENCHFLAGS)
	$(BIN) plot -in $(OUT)
	$(BIN) report -in $(OUT) $(SCALE_FLAG) -out REPORT.md

bench-full: build
	$(BIN) bench -full -out $(OUT) $(HOSTFLAGS) $(BENCHFLAGS)
	$(BIN) plot -in $(OUT)
	$(BIN) report -in $(OUT) $(SCALE_FLAG) -out REPORT.md

# bench-scale: idle connections from 10k toward 1M over several server and
# load processes, kernel limits raised for the run and put back (~25 min);
# then figure 17 and the report of $(OUT) with its scale section (of the
# scale run alone when $(OUT) holds no run yet).
bench-scale: build
	$(BIN) bench -scale -sample 1s -out $(SCALE_OUT) $(HOSTFLAGS) $(BENCHFLAGS)
	$(BIN) plot -in $(SCALE_OUT)
	$(BIN) report -in $(if $(wildcard $(OUT)/run.json),$(OUT) -scale $(SCALE_OUT),$(SCALE_OUT)) -out REPORT.md

# bench-netns: the quick suite across hosts built here (root): the server in
# one network namespace, the load from two others, joined by a bridge
# (scripts/netns-hosts.sh), torn down afterwards; its plots and report stay
# in $(NETNS_OUT).
bench-netns: build
	scripts/netns-hosts.sh up c10kb 200 >/dev/null && \
	trap 'scripts/netns-hosts.sh down c10kb' EXIT && \
	$(BIN) bench -out $(NETNS_OUT) -server-host netns:c10kb-srv -load-hosts netns:c10kb-l1,netns:c10kb-l2 $(BENCHFLAGS)
	$(BIN) plot -in $(NETNS_OUT)
	$(BIN) report -in $(NETNS_OUT) -out $(NETNS_OUT)/REPORT.md

plots: build
	$(BIN) plot -in $(OUT)
	$(if $(SCALE_FLAG),$(BIN) plot -in $(SCALE_OUT))

report: build
	$(BIN) report -in $(OUT) $(SCALE_FLAG) -out REPORT.md

# peers: nginx and Apache httpd (prefork, worker, event) as reference servers.
peers:
	sh scripts/install-peers.sh

clean:
	rm -rf bin
