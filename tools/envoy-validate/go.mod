module github.com/kantai/kantai/tools/envoy-validate

go 1.26.0

// envoy-validate: Envoy's own rules for the per-node proxies' bootstraps (components/routing),
// from Envoy's API protos as Go (github.com/envoyproxy/go-control-plane/envoy) with their
// protoc-gen-validate rules. Built by scripts/setup.sh into ~/.cache/kantai-tools/bin.

require (
	github.com/envoyproxy/go-control-plane/envoy v1.40.0
	google.golang.org/protobuf v1.36.12
	sigs.k8s.io/yaml v1.6.0
)

require (
	cel.dev/expr v0.25.2 // indirect
	github.com/cncf/xds/go v0.0.0-20260202195803-dba9d589def2 // indirect
	github.com/envoyproxy/protoc-gen-validate v1.3.3 // indirect
	github.com/planetscale/vtprotobuf v0.6.1-0.20240319094008-0393e58bdf10 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20260720211330-0afa2a65878a // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260720211330-0afa2a65878a // indirect
)
